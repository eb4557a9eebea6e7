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
    generator = repro.seed_everything("fit")
    model = nn.Linear(2, 2)
    history = train.fit(model, blobs(), epochs=5, optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
                        batch_size=16, eval_every=3, generator=generator, progress=False)
    assert history.step == [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 35] and history.epoch[-1] == 5
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] > 0.9 and len(history.batch_loss) == len(history.batch_acc) == 35


def test_fit_by_steps_with_a_schedule_metrics_and_one_set():
    generator = repro.seed_everything("fit")
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[5], gamma=0.1)
    history = train.fit(model, blobs(), optimizer=optimizer, schedule=schedule, steps=10, batch_size=16, eval_every=5,
                        eval_on=("test",), metrics={"training": lambda m: m.training}, generator=generator,
                        progress=False)
    assert history.step == [5, 10] and history.train_loss == [] and len(history.test_acc) == 2
    assert history.metrics["training"] == [False, False] and optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
    never = train.fit(model, blobs(), optimizer=optimizer, steps=3, eval_every=0, progress=False)
    assert never.step == [] and len(never.batch_loss) == 3


def test_warmup_cosine():
    optimizer = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=1.0)
    schedule = train.warmup_cosine(optimizer, warmup=10, total=110, final=0.1)
    rates = []
    for _ in range(110):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert rates[60] == pytest.approx(0.55) and rates[-1] == pytest.approx(0.1, abs=1e-3)
    with pytest.raises(ValueError, match="warmup"):
        train.warmup_cosine(optimizer, warmup=0, total=10)


def test_fit_is_deterministic():
    def run():
        generator = repro.seed_everything("deterministic")
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
    with pytest.raises(ValueError, match="either epochs or steps"):
        train.fit(model, blobs(), epochs=1, steps=1, optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="eval_on"):
        train.fit(model, blobs(), epochs=1, eval_on=("val",), optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


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


def test_linear_probe_reads_separable_features_and_not_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (300,), generator=g)
    informative = torch.randn(300, 5, generator=g) * 0.3 + 100 * nn.functional.one_hot(y, 3).float() @ torch.randn(3, 5, generator=g)
    noise = torch.randn(300, 5, generator=g)
    assert train.linear_probe(informative[:200], y[:200], informative[200:], y[200:]) > 0.95
    assert train.linear_probe(noise[:200], y[:200], noise[200:], y[200:]) < 0.55
    with pytest.raises(ValueError, match="same D"):
        train.linear_probe(noise[:200], y[:200], noise[200:, :4], y[200:])
    with pytest.raises(ValueError, match="labels"):
        train.linear_probe(noise[:200], y[:100], noise[200:], y[200:])


def test_embed_is_batched_frozen_and_flat():
    encoder = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Dropout(0.5)).train()
    x = torch.randn(7, 1, 5, 5)
    features = train.embed(encoder, x, batch_size=3)
    assert features.shape == (7, 18) and not features.requires_grad and encoder.training
    assert torch.equal(features, train.embed(encoder, x, batch_size=7))     # eval mode: dropout off


def test_history_gap_is_test_minus_train_loss_at_the_end():
    history = train.History(train_loss=[1.0, 0.5, 0.2, 0.1], test_loss=[1.0, 0.9, 0.8, 0.7])
    assert history.gap(last=2) == pytest.approx(((0.8 - 0.2) + (0.7 - 0.1)) / 2)
    assert history.gap(last=10) == pytest.approx((0 + 0.4 + 0.6 + 0.6) / 4)
    with pytest.raises(ValueError, match="train and test"):
        train.History(train_loss=[1.0]).gap()


def test_calibration_of_a_calibrated_and_an_overconfident_classifier():
    g = torch.Generator().manual_seed(0)
    confidence = 0.5 + 0.5 * torch.rand(20000, generator=g)               # top-class probability in [0.5, 1]
    labels = torch.zeros(20000, dtype=torch.long)
    right = torch.rand(20000, generator=g) < confidence                    # right exactly as often as confident
    predicted = torch.where(right, 0, 1)
    probs = torch.zeros(20000, 2)
    probs[torch.arange(20000), predicted] = confidence
    probs[torch.arange(20000), 1 - predicted] = 1 - confidence
    assert train.expected_calibration_error(probs, labels) < 0.02
    sure = torch.zeros(20000, 2)
    sure[torch.arange(20000), predicted] = 1.0                             # always certain, right 75% of the time
    assert abs(train.expected_calibration_error(sure, labels) - (1 - right.double().mean().item())) < 1e-9
    bins = train.calibration_bins(sure, labels, bins=10)
    assert bins["count"][-1] == 20000 and bins["count"][:-1].sum() == 0
    with pytest.raises(ValueError, match="one label each"):
        train.calibration_bins(probs, labels[:10])
