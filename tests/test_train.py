import pytest
import torch
from torch import nn

from utils import data, repro, train


def blobs(n: int = 200) -> data.Split:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + 3 * y.unsqueeze(1).float()
    return data.Split(x[: n // 2], y[: n // 2], x[n // 2:], y[n // 2:], "blobs")


def test_fit_learns_and_records_history():
    generator = repro.seed_everything(0)
    model = nn.Linear(2, 2)
    history = train.fit(model, blobs(), epochs=5, optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
                        batch_size=16, evals_per_epoch=2, generator=generator, progress=False)
    assert len(history.epoch) == 10 and history.epoch[-1] == 5
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.final["test_acc"] > 0.9


def test_fit_is_deterministic():
    def run():
        generator = repro.seed_everything(1)
        model = nn.Linear(2, 2)
        return train.fit(model, blobs(), epochs=2, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                         generator=generator, progress=False).train_loss

    assert run() == run()


def test_first_epoch():
    h = train.History(epoch=[1, 2, 3], train_acc=[0.5, 0.8, 0.9], train_loss=[3.0, 2.0, 1.0])
    assert h.first_epoch("train_acc", 0.8) == 2
    assert h.first_epoch("train_acc", 0.95) == float("inf")
    assert h.first_epoch("train_loss", 1.5, higher_is_better=False) == 3


def test_evaluate_restores_training_mode():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.train()
    loss, acc = train.evaluate(model, torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    assert model.training and 0.0 <= acc <= 1.0 and loss > 0


def test_fit_rejects_bad_arguments():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="positive"):
        train.fit(model, blobs(), epochs=0, optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
