"""Print the builtins table of btls's compiler as JSON for the TextMate
grammar: {"functions": [...], "variables": [...]}, each list sorted.

Run by tools/builtins.ts (npm run update-builtins, and the staleness test)
with the project's interpreter: ../.venv/bin/python or $BTLS_PYTHON.
"""

import json

from compiler.semantic.builtins import all_builtins


def main() -> None:
    kinds: dict[str, set[str]] = {"function": set(), "variable": set()}
    for builtin in all_builtins():
        names = kinds.setdefault(builtin.kind, set())
        names.add(builtin.name)
        names.update(builtin.aliases)
    print(json.dumps({"functions": sorted(kinds["function"]), "variables": sorted(kinds["variable"])}, indent=2))


if __name__ == "__main__":
    main()
