"""A stand-in for the target model, used only to record ../cassettes/nova-lite.jsonl
(see record.yaml). It answers an evalgate command-provider request
deterministically, and its answers depend on the prompt the way a chat model's
often do: turn markers left over from a text-completion prompt make it chatty,
a prompt that does not ask for the resolution gets only the issue."""
import json
import sys

req = json.load(sys.stdin)
prompt = req.get("system", "") + "\n" + "\n".join(m["content"] for m in req["messages"])
ref = req["fields"]["answer_ground_truth"]

if "Human:" in prompt or "Assistant:" in prompt:
    text = "Sure! Here is a one-sentence summary of the call for the ticket log:\n\n" + ref + "\n\nLet me know if you need anything else."
elif "resolved" not in prompt and "resolution" not in prompt:
    text = ref.split(";")[0] + "."
else:
    # Small wording differences, as a real model makes: which samples get
    # them depends on the prompt's style.
    n = int(req["sample_id"].split("-")[1])
    every = 4 if "## Output" in prompt else 3
    text = ref.replace("; ", ", which was ", 1) if n % every == 0 else ref

json.dump({
    "text": text,
    "usage": {"input_tokens": len(prompt) // 4, "output_tokens": max(1, len(text) // 4)},
    "latency_ms": 400 + 10 * (len(text) // 4),
    "stop_reason": "end_turn",
}, sys.stdout)
