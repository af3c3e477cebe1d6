"""HumanEval-X evaluation harness.

Pipeline, one module (or package) per stage:
dataset/errata -> prompts -> generation -> cleaning -> assembly -> sandbox/execute -> metrics -> summary.
"""

__version__ = "0.1.0"
RESULT_SCHEMA_VERSION = 1
