"""An example reward for a training loop that calls the judge service.

    from humaneval_x.serve.client import JudgeClient
    from humaneval_x.serve.reward import make_reward_fn, batch_rewards

    reward = make_reward_fn(JudgeClient("http://127.0.0.1:8000"))
    reward("Python/0", completion)        # 1.0 passed, 0.0 wrong (failed, compile_error, runtime_error,
                                          # timeout), None: no reward signal (the harness failed)

A ``harness_error`` says nothing about the completion (a sandbox could not be started, the engine failed):
it is ``None``, which a trainer must drop from its batch (or retry), never 0, or infrastructure faults
would teach the model that correct code is wrong.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple

from ..sandbox.base import MODEL_STATUSES

PASS_REWARD = 1.0
FAIL_REWARD = 0.0


def reward_of(record: dict) -> Optional[float]:
    status = record.get("status")
    if status == "passed":
        return PASS_REWARD
    if status in MODEL_STATUSES:
        return FAIL_REWARD
    return None  # harness_error, or anything unknown: no signal


def batch_rewards(client, pairs: Sequence[Tuple[str, str]], settings: Optional[dict] = None) -> List[Optional[float]]:
    """Rewards of many (task_id, completion) pairs in one call (batched and retried by the client)."""
    samples = [{"task_id": t, "completion": c} for t, c in pairs]
    return [reward_of(r) for r in client.judge(samples, settings, compact=True)]


def make_reward_fn(client, settings: Optional[dict] = None) -> Callable[[str, str], Optional[float]]:
    """(task_id, completion) -> reward, a plain function as trainers take one."""
    def reward(task_id: str, completion: str) -> Optional[float]:
        return batch_rewards(client, [(task_id, completion)], settings)[0]
    return reward
