import numpy as np
import pytest

from utils import rl


def push_right(observation):
    return 1


def balance(observation):
    """A hand-written controller: push the cart the way the pole is falling."""
    return int(observation[2] + 0.5 * observation[3] > 0)


def test_an_episode_ends_and_counts_its_rewards():
    env = rl.make_env("CartPole-v1", purpose="test")
    total, steps = rl.run_episode(env, push_right, seed=3)
    assert total == steps and 5 <= steps < 50          # CartPole pays 1 a step; pushing one way falls fast


def test_evaluation_is_seeded_by_purpose():
    a = rl.evaluate(rl.random_policy(rl.make_env(purpose="actions")), episodes=5, purpose="starts")
    b = rl.evaluate(rl.random_policy(rl.make_env(purpose="actions")), episodes=5, purpose="starts")
    assert np.array_equal(a, b)
    starts_a = rl.evaluate(push_right, episodes=5, purpose="starts")
    starts_b = rl.evaluate(push_right, episodes=5, purpose="other starts")
    assert not np.array_equal(starts_a, starts_b)


def test_solved_means_the_threshold_over_100_episodes():
    returns = rl.evaluate(balance, episodes=rl.EVALUATION_EPISODES)
    assert rl.solved(returns) and not rl.solved(rl.evaluate(push_right))
    with pytest.raises(ValueError, match="100 episodes"):
        rl.solved(returns[:10])


def test_centred_ranks_and_named_noise():
    ranks = rl.centred_ranks(np.array([[3.0, 1.0], [2.0, 10.0]]))
    assert np.allclose(ranks, [[1 / 6, -0.5], [-1 / 6, 0.5]])
    assert np.array_equal(rl.noise(5, 2, 1), rl.noise(5, 2, 1)) and not np.array_equal(rl.noise(5, 2, 1), rl.noise(5, 2, 0))


def test_es_improves_a_policy_and_shuffled_returns_do_not():
    settings = dict(pairs=6, sigma=0.1, lr=0.1, init_scale=0.1, eval_every=8, eval_episodes=5, progress=False)
    sizes = (4, 8, 2)
    assert rl.n_parameters(sizes) == 4 * 8 + 8 + 8 * 2 + 2
    theta, log = rl.evolve(8, sizes, **settings)
    again, _ = rl.evolve(8, sizes, **settings)
    _, shuffled = rl.evolve(8, sizes, **settings, shuffle_returns=True)
    assert np.array_equal(theta, again) and log["generation"] == [8]
    assert log["policy"][-1] > 2 * shuffled["policy"][-1] and log["steps"][-1] > 0
