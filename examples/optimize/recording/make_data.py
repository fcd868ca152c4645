"""Writes ../data/calls.jsonl: support calls of Brightnest, a (fictional)
smart-home company, with the reference summary and the logged answers of the
source model. Written for evalgate's optimize example; rerun to regenerate."""
import json
import os

# (product, what the customer said, what the agent did, reference summary)
CALLS = [
    ("router", "my router keeps dropping the wifi every evening", "moved the router off channel 11 to channel 1", "Wi-Fi dropped every evening; fixed by moving the router to channel 1."),
    ("router", "the router light is blinking orange and nothing connects", "had the customer restart the modem first and then the router", "Router blinked orange with no connection; fixed by restarting the modem, then the router."),
    ("router", "I forgot the admin password of the router", "walked the customer through a factory reset with the pin hole button", "Customer forgot the router admin password; reset to factory settings with the pin hole button."),
    ("router", "the guest network does not show up on my phone", "turned on the guest network broadcast in the app", "Guest network was not visible; enabled guest network broadcast in the app."),
    ("router", "internet is slow only in the bedroom upstairs", "suggested adding a mesh satellite on the landing", "Slow internet upstairs; recommended a mesh satellite on the landing."),
    ("router", "the router update failed halfway", "reinstalled the firmware from the recovery page", "Router firmware update failed; reinstalled the firmware from the recovery page."),
    ("thermostat", "the thermostat shows the wrong temperature", "recalibrated the sensor offset by minus two degrees", "Thermostat read the wrong temperature; recalibrated the sensor offset by minus two degrees."),
    ("thermostat", "the heating turns on at night even though the schedule is off", "deleted an old vacation schedule that was still active", "Heating ran at night; deleted an old vacation schedule that was still active."),
    ("thermostat", "the thermostat screen is blank", "replaced the two AA batteries", "Thermostat screen was blank; replaced the two AA batteries."),
    ("thermostat", "the app says the thermostat is offline", "reconnected the thermostat to the 2.4 GHz network", "App showed the thermostat offline; reconnected it to the 2.4 GHz network."),
    ("thermostat", "I want the thermostat in Fahrenheit", "switched the display unit in settings", "Customer wanted Fahrenheit; switched the display unit in settings."),
    ("thermostat", "the boiler clicks on and off every few minutes", "raised the temperature swing to one degree", "Boiler cycled every few minutes; raised the temperature swing to one degree."),
    ("camera", "the camera video is blurry at night", "cleaned the lens and turned off the outdoor spotlight glare", "Night video was blurry; cleaned the lens and removed spotlight glare."),
    ("camera", "I get motion alerts for every passing car", "drew an activity zone that excludes the street", "Too many motion alerts from cars; drew an activity zone excluding the street."),
    ("camera", "recordings stop after ten seconds", "upgraded the clip length in the subscription settings", "Recordings stopped after ten seconds; increased the clip length in subscription settings."),
    ("camera", "the camera will not pair with the app", "reset the camera and paired it with bluetooth on", "Camera would not pair; reset it and paired with Bluetooth on."),
    ("camera", "the battery of the camera lasts only three days", "lowered motion sensitivity and turned off live view wake ups", "Camera battery lasted three days; lowered motion sensitivity and disabled live view wake ups."),
    ("camera", "I cannot share the camera with my partner", "sent a household invite from the account page", "Could not share the camera; sent a household invite from the account page."),
    ("doorbell", "the doorbell does not ring the chime inside", "set the chime type to mechanical in the app", "Doorbell did not ring the indoor chime; set the chime type to mechanical."),
    ("doorbell", "the doorbell keeps restarting", "checked the transformer and replaced it with a 16 volt one", "Doorbell kept restarting; replaced the transformer with a 16 volt one."),
    ("doorbell", "visitors hear an echo when I talk", "turned on echo cancellation in audio settings", "Visitors heard an echo; enabled echo cancellation in audio settings."),
    ("doorbell", "the doorbell notifications arrive late", "disabled battery optimization for the app on the phone", "Doorbell notifications arrived late; disabled battery optimization for the app."),
    ("doorbell", "the faceplate is cracked", "sent a free replacement faceplate under warranty", "Doorbell faceplate was cracked; sent a free replacement under warranty."),
    ("doorbell", "I want to turn off the doorbell at night", "set do not disturb hours from ten to seven", "Customer wanted quiet nights; set do not disturb from ten to seven."),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "data", "calls.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for i, (product, said, did, ref) in enumerate(CALLS, 1):
            transcript = (f"Agent: Brightnest support, how can I help?\n"
                          f"Customer: Hi, {said}.\n"
                          f"Agent: Let me check. I {did.replace('had the customer', 'will have you').replace('walked the customer', 'will walk you')}.\n"
                          f"Customer: That worked, thanks.")
            # The source model (Claude v2, text completion) answered in the
            # ticket-log style; a few of its answers dropped the resolution.
            source = ref if i % 5 else ref.split(";")[0] + "."
            row = {
                "sample_id": f"call-{i:03d}",
                "product": product,
                "transcript": transcript,
                "answer_ground_truth": ref,
                "answer_source_llm": source,
                "latency_source_llm": round(1.1 + (i % 7) * 0.13, 3),
                "input_token_source_llm": 95 + len(transcript) // 4,
                "output_token_source_llm": len(source) // 4,
            }
            f.write(json.dumps(row) + "\n")


main()
