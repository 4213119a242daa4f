"""Executes every notebook in notebooks/ headlessly with nbclient against the export named by
UNIONSTAT_EXPORT (and the Postgres endpoint in UNIONSTAT_PG_URL); any cell error fails the run.
Usage: run_notebooks.py NOTEBOOK_FOLDER"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

folder = Path(sys.argv[1])
notebooks = sorted(folder.glob("*.ipynb"))
assert notebooks, f"no notebooks in {folder}"
for path in notebooks:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    images = sum(1 for cell in notebook.cells for out in cell.get("outputs", []) if "image/png" in out.get("data", {}))
    print(f"{path.name}: {len(notebook.cells)} cells ran, {images} charts drawn")
