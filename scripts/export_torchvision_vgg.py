#!/usr/bin/env python3
"""Export torchvision's pretrained VGG models to ONNX for configs/vgg.yaml.

Usage: python3 scripts/export_torchvision_vgg.py OUT_DIR   (needs torch and torchvision)

tailwatch reads only the weights, so the export keeps BatchNormalization nodes unfolded
(TrainingMode.TRAINING stops the exporter from fusing BN into the conv weights): the *_bn rows
then match the PyTorch-side weights that the published results used. Do not use these files
for inference.
"""
import sys
from pathlib import Path

import torch
import torchvision

NAMES = ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "models/vgg")
    out.mkdir(parents=True, exist_ok=True)
    x = torch.randn(1, 3, 224, 224)
    for name in NAMES:
        model = getattr(torchvision.models, name)(weights="IMAGENET1K_V1")
        path = out / f"{name}.onnx"
        torch.onnx.export(
            model, x, str(path), opset_version=17, dynamo=False,
            training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
