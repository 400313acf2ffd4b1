"""Dev-tuned thresholds: per class only with enough support, a shared one otherwise, never below the floor."""

import numpy as np

from training.thresholds import THRESHOLD_GRID, best_threshold, tune_thresholds


def test_a_class_with_three_dev_positives_is_not_tuned_on_its_own():
    rng = np.random.default_rng(0)
    gold = np.zeros((200, 3), dtype=int)
    gold[:3, 0] = 1                       # class 0: 3 positives (the old rule tuned it)
    gold[10:40, 1] = 1                    # class 1: 30 positives
    prob = rng.uniform(0.0, 0.1, size=(200, 3))
    prob[:3, 0] = 0.06                    # only a 0.05 threshold would "find" class 0
    prob[10:40, 1] = 0.8
    choice = tune_thresholds(gold, prob, min_positives=10)
    assert choice.sources == ["default", "class", "default"]
    assert choice.thresholds[0] == 0.5 and 0.2 <= choice.thresholds[1] <= 0.8
    assert choice.tuned == [False, True, False]


def test_low_support_classes_share_a_pooled_threshold():
    gold = np.zeros((100, 3), dtype=int)
    gold[:6, 0] = 1
    gold[50:56, 1] = 1                     # 6 + 6 = 12 pooled positives, under 10 each
    gold[60:90, 2] = 1
    prob = np.full((100, 3), 0.1)
    prob[:6, 0] = 0.35
    prob[50:56, 1] = 0.4
    prob[60:90, 2] = 0.9
    choice = tune_thresholds(gold, prob, min_positives=10)
    assert choice.sources == ["shared", "shared", "class"]
    assert choice.shared is not None and 0.1 < choice.shared <= 0.35
    assert choice.thresholds[0] == choice.thresholds[1] == choice.shared


def test_no_threshold_below_the_floor():
    gold = np.zeros((50, 1), dtype=int)
    gold[:20, 0] = 1
    prob = np.full((50, 1), 0.01)
    prob[:20, 0] = 0.07                    # separable only at 0.05
    assert tune_thresholds(gold, prob, min_positives=10, floor=0.2).thresholds[0] >= 0.2
    assert best_threshold(gold[:, 0], prob[:, 0], floor=0.0) == 0.05
    assert THRESHOLD_GRID[0] == 0.05 and THRESHOLD_GRID[-1] == 0.95
