import sys
from pathlib import Path

# Let tests import helpers that live next to them (annotations.py).
sys.path.insert(0, str(Path(__file__).parent))
