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
