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


def test_shape_errors_are_plain():
    split = blobs()
    with pytest.raises(ValueError, match="cannot take inputs of shape"):
        train.fit(nn.Linear(3, 2), split, epochs=1, optimizer=torch.optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1))
    with pytest.raises(ValueError, match="scores for 2 classes"):
        model = nn.Linear(2, 1)
        train.fit(model, split, epochs=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    bad = data.Split(split.x_train, split.y_train[:-1], split.x_test, split.y_test, "bad")
    with pytest.raises(ValueError, match="labels"):
        model = nn.Linear(2, 2)
        train.fit(model, bad, epochs=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def test_checkpoint_of_another_model_is_refused(tmp_path):
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    train.fit(model, blobs(), epochs=1, optimizer=opt, checkpoint=tmp_path / "ck.pt", progress=False)
    other = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 2))
    with pytest.raises(train.CheckpointMismatch, match="Delete the file"):
        train.fit(other, blobs(), epochs=2, optimizer=torch.optim.SGD(other.parameters(), lr=0.1),
                  checkpoint=tmp_path / "ck.pt", progress=False)


RESUME_SCRIPT = """
import os, signal, sys, torch
from torch import nn
sys.path.insert(0, {root!r})
from utils import data, repro, train
g = torch.Generator().manual_seed(0)
y = torch.randint(0, 3, (300,), generator=g)
x = torch.randn(300, 4, generator=g) + y.unsqueeze(1).float()
split = data.Split(x[:200], y[:200], x[200:], y[200:], "toy")
generator = repro.seed_everything(0)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
calls = 0
def loss_fn(logits, target):
    global calls
    calls += 1
    if calls == int(sys.argv[2]):      # die in the middle of epoch 3, as a dying Colab session would
        os.kill(os.getpid(), signal.SIGKILL)
    return nn.functional.cross_entropy(logits, target)
checkpoint = sys.argv[1] if sys.argv[1] != "-" else None
h = train.fit(model, split, epochs=5, optimizer=opt, loss_fn=loss_fn, batch_size=32, generator=generator,
              checkpoint=checkpoint, progress=False)
torch.save({{"model": model.state_dict(), "loss": h.train_loss}}, sys.argv[3])
"""


def test_interrupted_run_resumes_to_the_same_result(tmp_path, root):
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(RESUME_SCRIPT.format(root=str(root)))
    ck, out_a, out_b = tmp_path / "ck.pt", tmp_path / "a.pt", tmp_path / "b.pt"
    never = "1000000"
    # uninterrupted reference run
    subprocess.run([sys.executable, str(script), "-", never, str(out_a)], check=True, timeout=120)
    # an epoch calls the loss 9 times (7 batches, 2 evaluations): call 22 falls in the middle of epoch 3
    killed = subprocess.run([sys.executable, str(script), str(ck), "22", str(out_b)], timeout=120)
    assert killed.returncode != 0 and ck.exists() and not out_b.exists()
    assert torch.load(ck, weights_only=False)["epoch"] == 2
    subprocess.run([sys.executable, str(script), str(ck), never, str(out_b)], check=True, timeout=120)
    a, b = torch.load(out_a), torch.load(out_b)
    assert a["loss"] == b["loss"]
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
