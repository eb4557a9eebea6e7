"""Reinforcement learning: seeded environments, one episode, and evaluation over many.

The trial-and-error chapters (DQN, evolution strategies, policy gradients, NEAT) share these so that every
return they report is measured the same way: a *policy* is any function from an observation (a NumPy
array) to an action, an episode runs until the environment terminates or truncates it, and
:func:`evaluate` plays ``episodes`` episodes whose start states are seeded from ``BOOK_SEED``, the chapter
and a purpose — the same start states for every policy evaluated under the same purpose.

Below them, OpenAI's evolution strategies as the evolution-strategies chapter writes them out (its cells
marked ``#@save utils.rl`` hold this code word for word; ``tests/test_models.py`` checks it), for the
policy-gradient chapter, which compares them with PPO.
"""
from __future__ import annotations

import functools
import time
from typing import Callable

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

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


# The evolution-strategies chapter's cells marked `#@save utils.rl` hold this code, word for word.

def n_parameters(sizes: tuple[int, ...]) -> int:
    """Weights and biases of a fully connected network with layer sizes ``sizes``."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def act(theta: np.ndarray, observation: np.ndarray, sizes: tuple[int, ...]) -> int:
    """The action of the policy with flat parameters ``theta``: argmax of W2·tanh(W1·obs + b1) + b2."""
    i, h = 0, observation
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w, b = theta[i:i + n_in * n_out].reshape(n_in, n_out), theta[i + n_in * n_out:i + n_in * n_out + n_out]
        h = h @ w + b
        h = np.tanh(h) if layer < len(sizes) - 2 else h
        i += n_in * n_out + n_out
    return int(np.argmax(h))


@functools.cache
def cartpole() -> gym.Env:
    """One CartPole-v1 environment per process, reused by every episode (each is reset with its own seed)."""
    return gym.make("CartPole-v1")


def episode_return(theta: np.ndarray, sizes: tuple[int, ...], seed: int) -> float:
    return run_episode(cartpole(), lambda observation: act(theta, observation, sizes), seed=seed)[0]


def noise(n_params: int, generation: int, pair: int) -> np.ndarray:
    return repro.rng(f"noise, generation {generation}, pair {pair}").standard_normal(n_params)


def pair_returns(task: tuple) -> tuple[float, float]:
    """F(θ + σε) and F(θ − σε) for one antithetic pair, both from the same start state."""
    theta, sizes, sigma, generation, pair = task
    epsilon = noise(theta.size, generation, pair)
    start = repro.seed(f"start state, generation {generation}, pair {pair}")
    return (episode_return(theta + sigma * epsilon, sizes, start),
            episode_return(theta - sigma * epsilon, sizes, start))


def centred_ranks(returns: np.ndarray) -> np.ndarray:
    ranks = np.empty(returns.size)
    ranks[np.argsort(returns, axis=None, kind="stable")] = np.arange(returns.size)
    return (ranks / (returns.size - 1) - 0.5).reshape(returns.shape)


def es_gradient(weights: np.ndarray, n_params: int, sigma: float, generation: int) -> np.ndarray:
    """(1 / 2nσ) Σ (w⁺ − w⁻) ε, with every ε regenerated from its name."""
    epsilons = np.stack([noise(n_params, generation, i) for i in range(len(weights))])
    return (weights[:, 0] - weights[:, 1]) @ epsilons / (2 * len(weights) * sigma)


def evolve(generations: int, sizes: tuple[int, ...], *, pairs: int, sigma: float, lr: float, init_scale: float,
           eval_every: int, eval_episodes: int, map_fn=map, shuffle_returns: bool = False, purpose: str = "ES",
           progress: bool = True) -> tuple[np.ndarray, dict]:
    start_theta = init_scale * repro.rng("initial policy").standard_normal(n_parameters(sizes))
    theta = torch.nn.Parameter(torch.from_numpy(start_theta))
    optimizer = torch.optim.Adam([theta], lr=lr)
    log = {"generation": [], "population": [], "policy": [], "steps": [], "seconds": []}
    steps, start, evaluating = 0, time.perf_counter(), 0.0
    for g in tqdm(range(generations), desc=purpose, disable=not progress, leave=False):
        current = theta.detach().numpy().copy()
        returns = np.array(list(map_fn(pair_returns, [(current, sizes, sigma, g, i) for i in range(pairs)])))
        steps += int(returns.sum())                      # CartPole pays 1 a step: returns count steps
        weights = centred_ranks(returns)
        if shuffle_returns:
            weights = repro.rng(f"{purpose}, shuffle {g}").permutation(weights.ravel()).reshape(weights.shape)
        optimizer.zero_grad()
        theta.grad = torch.from_numpy(-es_gradient(weights, current.size, sigma, g))   # ascend J: descend −∇J
        optimizer.step()
        if (g + 1) % eval_every == 0 or g + 1 == generations:
            seconds, before = time.perf_counter() - start - evaluating, time.perf_counter()   # training time only
            policy = evaluate(lambda o: act(theta.detach().numpy(), o, sizes), episodes=eval_episodes,
                              purpose=f"learning curve, generation {g}")
            evaluating += time.perf_counter() - before
            for key, value in (("generation", g + 1), ("population", returns.mean()), ("policy", policy.mean()),
                               ("steps", steps), ("seconds", seconds)):
                log[key].append(value)
    return theta.detach().numpy(), log
