"""The example notebooks run top to bottom, as a student runs them, and are committed without
outputs."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["fashion-mnist.ipynb", "your-own-table.ipynb"])
def test_the_notebook_runs_top_to_bottom(name, request):
    if name.startswith("fashion"):
        request.getfixturevalue("fashion")  # skipped (failed under CI) without Fashion-MNIST
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "committed without outputs"
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert errors == []
