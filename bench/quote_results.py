"""Copies the results table of bench/RESULTS.md into README.md, between the bench markers."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
results = (root / "bench" / "RESULTS.md").read_text()
table = "\n".join(line for line in results.splitlines() if line.startswith("|"))
measured = re.search(r"Measured by `make bench` on (.*?), in", results, flags=re.S)
when = " ".join(measured.group(1).split()) if measured else "this machine"
readme = (root / "README.md").read_text()
block = f"<!-- bench:start -->\nMeasured on {when} (`make bench`; details and budgets in `bench/RESULTS.md`):\n\n{table}\n<!-- bench:end -->"
updated, count = re.subn(r"<!-- bench:start -->.*?<!-- bench:end -->", block, readme, flags=re.S)
if count != 1:
    raise SystemExit("README.md has no <!-- bench:start --> ... <!-- bench:end --> section")
(root / "README.md").write_text(updated)
print("README.md quotes the new results")
