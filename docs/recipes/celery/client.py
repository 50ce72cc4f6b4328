"""Send one task and print what the worker answered."""
import json

from tasks import check

print(json.dumps(check.delay().get(timeout=60)))
