import pytest

from utils import budget


def test_pick_follows_environment(monkeypatch):
    for name in budget.BUDGETS:
        monkeypatch.setenv("BOOK_BUDGET", name)
        assert budget.current() == name
        assert budget.pick(smoke=1, standard=2, full=3) == {"smoke": 1, "standard": 2, "full": 3}[name]


def test_explicit_budget_overrides_environment(monkeypatch):
    monkeypatch.setenv("BOOK_BUDGET", "smoke")
    assert budget.pick(smoke="s", standard="m", full="l", budget="full") == "l"


def test_default_depends_on_cuda(monkeypatch):
    monkeypatch.delenv("BOOK_BUDGET", raising=False)
    monkeypatch.setattr(budget, "_cuda_available", lambda: True)
    assert budget.current() == "full"
    monkeypatch.setattr(budget, "_cuda_available", lambda: False)
    assert budget.current() == "standard"


def test_case_and_spaces_are_forgiven(monkeypatch):
    monkeypatch.setenv("BOOK_BUDGET", " Smoke ")
    assert budget.current() == "smoke"


def test_unknown_budget_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("BOOK_BUDGET", "huge")
    with pytest.raises(budget.UnknownBudget, match="smoke, standard, full"):
        budget.current()
    with pytest.raises(budget.UnknownBudget, match="'tiny'"):
        budget.pick(smoke=1, standard=2, full=3, budget="tiny")


def test_a_value_the_same_at_every_budget_is_not_picked():
    with pytest.raises(ValueError, match="same value for every budget"):
        budget.pick(smoke=0.5, standard=0.5, full=0.5)


def test_config_states_shared_values_once():
    cfg = budget.config(dict(batch=64, width=100), smoke=dict(steps=10), standard=dict(steps=100),
                        full=dict(steps=1000, width=400), budget="full")
    assert cfg == {"batch": 64, "width": 400, "steps": 1000} and repr(cfg).startswith("budget 'full': batch=64")
    assert budget.config(dict(batch=64), smoke=dict(steps=1), standard=dict(steps=2), full=dict(steps=3),
                         budget="smoke")["steps"] == 1


@pytest.mark.parametrize("shared, smoke, standard, full, message", [
    (dict(batch=64), dict(batch=64), dict(), dict(), "repeats the shared value"),
    (dict(), dict(steps=1), dict(steps=1), dict(steps=1), "at every budget: put it in shared"),
    (dict(), dict(steps=1), dict(steps=2), dict(), "no value at budget full"),
])
def test_config_refuses_what_belongs_elsewhere(shared, smoke, standard, full, message):
    with pytest.raises(ValueError, match=message):
        budget.config(shared, smoke=smoke, standard=standard, full=full, budget="smoke")
