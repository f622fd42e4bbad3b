"""Copies the tables of bench/RESULTS.md (the results, then DynamoDB's own floor) into README.md,
between the bench markers."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
results = (root / "bench" / "RESULTS.md").read_text()
tables, current = [], []
for line in results.splitlines() + [""]:
    if line.startswith("|"):
        current.append(line)
    elif current:
        tables.append("\n".join(current))
        current = []
if not tables:
    raise SystemExit("bench/RESULTS.md has no table")
table = tables[0]
if len(tables) > 1:
    table += "\n\nDynamoDB's own floor: the same calls from a bare SDK client, no function (see `bench/RESULTS.md`):\n\n" + tables[1]
measured = re.search(r"Measured by `make bench` on (.*?), in", results, flags=re.S)
when = " ".join(measured.group(1).split()) if measured else "this machine"
readme = (root / "README.md").read_text()
block = f"<!-- bench:start -->\nMeasured on {when} (`make bench`; details and budgets in `bench/RESULTS.md`):\n\n{table}\n<!-- bench:end -->"
updated, count = re.subn(r"<!-- bench:start -->.*?<!-- bench:end -->", block, readme, flags=re.S)
if count != 1:
    raise SystemExit("README.md has no <!-- bench:start --> ... <!-- bench:end --> section")
(root / "README.md").write_text(updated)
print("README.md quotes the new results")
