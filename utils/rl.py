"""Reinforcement learning: seeded environments, one episode, and evaluation over many.

The trial-and-error chapters (DQN, evolution strategies, policy gradients, NEAT) share these so that every
return they report is measured the same way: a *policy* is any function from an observation (a NumPy
array) to an action, an episode runs until the environment terminates or truncates it, and
:func:`evaluate` plays ``episodes`` episodes whose start states are seeded from ``BOOK_SEED``, the chapter
and a purpose — the same start states for every policy evaluated under the same purpose.
"""
from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np

from . import repro

Policy = Callable[[np.ndarray], int]

SOLVED = {"CartPole-v1": 475.0}   # Gymnasium's reward threshold: mean return over 100 consecutive episodes
EVALUATION_EPISODES = 100


def make_env(name: str = "CartPole-v1", purpose: str = "environment") -> gym.Env:
    """``gym.make(name)`` with its first reset and its action space seeded for ``purpose``."""
    env = gym.make(name)
    env.reset(seed=repro.seed(purpose))
    env.action_space.seed(repro.seed(f"{purpose}, action space"))
    return env


def run_episode(env: gym.Env, policy: Policy, seed: int | None = None) -> tuple[float, int]:
    """Play one episode with ``policy`` (reset with ``seed`` if given); return its total reward and length."""
    observation, _ = env.reset(seed=seed)
    total, steps, done = 0.0, 0, False
    while not done:
        observation, reward, terminated, truncated, _ = env.step(policy(observation))
        total += float(reward)
        steps += 1
        done = terminated or truncated
    return total, steps


def evaluate(policy: Policy, name: str = "CartPole-v1", episodes: int = EVALUATION_EPISODES,
             purpose: str = "evaluation") -> np.ndarray:
    """Returns of ``episodes`` episodes of ``policy`` on a fresh ``name`` environment, episode ``i`` reset
    with the seed of ``purpose`` plus ``i`` (so two policies evaluated for the same purpose meet the same
    start states)."""
    env = gym.make(name)
    base = repro.seed(purpose)
    try:
        return np.array([run_episode(env, policy, seed=base + i)[0] for i in range(episodes)])
    finally:
        env.close()


def random_policy(env: gym.Env) -> Policy:
    """The baseline every learner must beat: actions drawn uniformly from ``env``'s (seeded) action space."""
    return lambda observation: env.action_space.sample()


def solved(returns: np.ndarray, name: str = "CartPole-v1") -> bool:
    """Whether a mean return over at least 100 episodes reaches the environment's threshold (:data:`SOLVED`)."""
    if len(returns) < EVALUATION_EPISODES:
        raise ValueError(f"'solved' is defined over {EVALUATION_EPISODES} episodes, got {len(returns)}")
    return float(np.mean(returns)) >= SOLVED[name]
