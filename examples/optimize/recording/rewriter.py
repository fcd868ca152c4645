"""A stand-in for the model that rewrites the prompt (the metaprompt
generator), used only to record ../cassettes/metaprompt.jsonl (see
record.yaml). It answers with the two sections evalgate asks for, keeping
every placeholder of the original."""
import json
import re
import sys

req = json.load(sys.stdin)
original = req["messages"][-1]["content"]
fields = list(dict.fromkeys(re.findall(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}", original)))
data = "\n\n".join("## Call transcript\n{{" + f + "}}" for f in fields)
text = (
    "<system_prompt>\n"
    "You are the support team lead of Brightnest, a smart-home company. "
    "You write the one-sentence ticket-log summary of each support call.\n"
    "</system_prompt>\n"
    "<user_prompt>\n"
    + data +
    "\n\n## Task\nWrite one sentence for the ticket log: the customer's issue, then how it was resolved.\n\n"
    "## Output\nOnly that sentence, with no greeting or preamble.\n"
    "</user_prompt>"
)
json.dump({
    "text": text,
    "usage": {"input_tokens": (len(req.get("system", "")) + len(original)) // 4, "output_tokens": len(text) // 4},
    "latency_ms": 2000,
    "stop_reason": "end_turn",
}, sys.stdout)
