import numpy as np

from synthcal.convert import compile_f32, load_classifier
from synthcal.data import Split
from synthcal.evaluate import accuracy_report, evaluate_ir, measure_timing, predict

from helpers import random_images


def test_accuracy_report_counts_hits_per_class():
    logits = np.zeros((4, 10), dtype=np.float32)
    logits[[0, 1, 2, 3], [0, 0, 5, 9]] = 1.0
    split = Split(random_images(4, 0), np.array([0, 1, 5, 5]))
    report = accuracy_report(logits, split)
    assert report["accuracy"] == 0.5 and report["correct"] == 2
    assert report["per_class_accuracy"]["airplane"] == 1.0 and report["per_class_accuracy"]["automobile"] == 0.0
    assert report["per_class_accuracy"]["dog"] == 0.5 and report["per_class_accuracy"]["truck"] is None


def test_evaluate_ir_agrees_with_pytorch(resnet20_ir):
    import torch

    weights, xml = resnet20_ir
    images = random_images(50, 4)
    mean, std = (0.4, 0.4, 0.4), (0.2, 0.3, 0.25)
    model, _ = load_classifier("resnet20", weights)
    x = (torch.from_numpy(images).float() / 255 - torch.tensor(mean)) / torch.tensor(std)
    with torch.no_grad():
        torch_pred = model(x.permute(0, 3, 1, 2)).argmax(1).numpy()
    labels = torch_pred.copy()
    labels[:10] = (labels[:10] + 1) % 10  # exactly 10 of 50 wrong
    report = evaluate_ir(xml, Split(images, labels), mean, std, threads=1, batch_size=16,
                         timing_seconds=0.2)
    assert report["accuracy"] == 0.8 and report["n_images"] == 50
    assert report["images_per_s"] > 0 and report["latency_ms_median"] > 0 and report["threads"] == 1
    # batching does not change predictions
    logits = predict(compile_f32(xml), images, mean, std, batch_size=7)
    assert np.array_equal(logits.argmax(1), torch_pred)


def test_timing_can_be_skipped(resnet20_ir):
    timing = measure_timing(resnet20_ir[1], threads=1, seconds=0)
    assert timing.images_per_s is None and timing.latency_ms_median is None
