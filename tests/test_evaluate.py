import numpy as np

from synthcal.aggregate import speed_rows
from synthcal.data import Split
from synthcal.evaluate import accuracy_report, evaluate_ir, predict
from synthcal.ir import compile_f32
from synthcal.models import load_classifier
from synthcal.speed import compare_speed

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
    report, predictions = evaluate_ir(xml, Split(images, labels), mean, std, threads=1, batch_size=16)
    assert report["accuracy"] == 0.8 and report["n_images"] == 50 and report["threads"] == 1
    # the stored predictions are the model's decisions, keyed by test position, and give the summary's numbers
    assert np.array_equal(predictions.predictions, torch_pred) and np.array_equal(predictions.indices, np.arange(50))
    assert np.array_equal(predictions.labels, labels) and predictions.logits.dtype == np.float16
    assert report["machine"]["threads"] == 1 and report["machine"]["versions"]["openvino"]
    assert "images_per_s" not in report  # speed is measured once, by synthcal.speed
    # batching does not change predictions
    logits = predict(compile_f32(xml), images, mean, std, batch_size=7)
    assert np.array_equal(logits.argmax(1), torch_pred)


def test_speed_is_measured_per_ir_and_joined_into_rows(resnet20_ir, tmp_path):
    xml = resnet20_ir[1]
    record = compare_speed({"fp32": xml, "int8/a": xml, "int8/b": xml}, threads=1, batch_size=4, seconds=0.05,
                           repeats=2)
    assert set(record["irs"]) == {"fp32", "int8/a", "int8/b"} and record["repeats"] == 2
    rows = speed_rows({"model": "m", "algorithm": "default", **record})
    assert [r["source"] for r in rows] == ["a", "b"]
    for row in rows:
        int8 = record["irs"][f"int8/{row['source']}"]
        assert row["int8_images_per_s"] == int8["images_per_s"] > 0
        assert row["speedup"] == int8["images_per_s"] / record["irs"]["fp32"]["images_per_s"]
