#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Python contender of the serving benchmark, served the way the Fashion-MNIST projects do: FastAPI on
uvicorn with PyTorch, one request per forward pass. It loads the model directory fmnist_serve loads (MLmodel
plus model.pt, LibTorch's torch::save of the module), rebuilds the network of apps/fmnist/src/models.cpp
from MLmodel's flavors.libtorch.config and takes the weights from model.pt by name (a strict match), so the
weights and the preprocessing ((x - 0.2860406) / 0.3530242 on training-scale input) are the same.
Same route and payload as fmnist_serve: POST /invocations {"inputs": N x 1 x 28 x 28} -> {"predictions"}.

--check-against URL posts test images to another server (fmnist_serve) and compares its predictions with
this model's: exit 1 if any probability differs by more than --tolerance."""
import argparse
import json
import os
import sys
import urllib.request

import torch
import yaml
from torch import nn

MEAN, STD = 0.2860406, 0.3530242  # fmnist/models.h: kFmnistInput
TAP_POOL = 4  # ClassifierImpl::kTapPool
STAGES = [(1, 16, 1), (6, 24, 2), (6, 32, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1)]
LAYOUTS = {"small": (1, [1, 2, 2, 2, 1, 2, 1]), "imagenet": (2, [1, 2, 2, 2, 1, 2, 1])}


def scaled(channels, width):
    v = max(8, int(channels * width + 4) // 8 * 8)
    return v + 8 if v < 0.9 * channels * width else v


def conv_bn(cin, cout, kernel, stride, groups, activation):
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return layers + [nn.ReLU6()] if activation else layers


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        layers = conv_bn(cin, hidden, 1, 1, 1, True) if expand != 1 else []
        layers += conv_bn(hidden, hidden, 3, stride, hidden, True) + conv_bn(hidden, cout, 1, 1, 1, False)
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class Classifier(nn.Module):
    """models.cpp's ClassifierImpl: the same modules under the same names, the same forward."""

    def __init__(self, c):
        super().__init__()
        arch, width, layout = c["architecture"], c.get("width_multiplier", 1.0), c.get("layout", "imagenet")
        self.taps = []  # (index in the backbone, pooled side)
        if arch == "small_cnn":
            layers = [nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten()]
            features = 64 * 7 * 7
        elif arch == "pixels":
            layers, features = [nn.Flatten()], 28 * 28
        elif arch == "mobilenet_v2":
            stem_stride, strides = LAYOUTS[layout]
            cin, side = scaled(32, width), (28 + stem_stride - 1) // stem_stride
            layers, ends = conv_bn(1, cin, 3, stem_stride, 1, True), []
            for (expand, channels, repeats), stride in zip(STAGES, strides):
                cout = scaled(channels, width)
                for i in range(repeats):
                    layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                    cin = cout
                side = (side + stride - 1) // stride
                ends.append((len(layers) - 1, cout, side))
            if layout == "imagenet":
                last = scaled(1280, width) if width > 1.0 else 1280
                layers += conv_bn(cin, last, 1, 1, 1, True) + [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
                features = last
            else:
                self.taps = [(index, min(TAP_POOL, s)) for index, _, s in ends[2:]]
                features = sum(ch * min(TAP_POOL, s) ** 2 for _, ch, s in ends[2:])
        else:
            raise ValueError(f"unknown architecture '{arch}'")
        self.backbone = nn.Sequential(*layers)
        head = [nn.BatchNorm1d(features)] if arch == "pixels" or (arch == "mobilenet_v2" and layout == "small") else []
        classes = c.get("num_classes", 10)
        if c.get("head", "mlp") == "linear":
            head.append(nn.Linear(features, classes))
        else:
            hidden = 128 if arch == "small_cnn" else 256
            head += [nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(c.get("dropout", 0.25)),
                     nn.Linear(hidden, classes)]
        self.head = nn.Sequential(*head)

    def forward(self, x):
        if not self.taps:
            return self.head(self.backbone(x))
        pooled, taps = [], dict(self.taps)
        for index, layer in enumerate(self.backbone):
            x = layer(x)
            if index in taps:
                pooled.append(nn.functional.adaptive_avg_pool2d(x, taps[index]).flatten(1))
        return self.head(torch.cat(pooled, 1))


def load_model(directory):
    """The model of a logged model directory, in eval mode: (module, its MLmodel config)."""
    path = os.path.join(directory, "MLmodel")
    with open(path) as f:
        flavor = (yaml.safe_load(f).get("flavors") or {}).get("libtorch")
    if not flavor or "config" not in flavor:
        raise ValueError(f"{path}: no flavors.libtorch.config (not a model logged by fmnist_train)")
    model = Classifier(flavor["config"])
    saved = torch.jit.load(os.path.join(directory, flavor.get("weights_file", "model.pt")), map_location="cpu")
    model.load_state_dict(saved.state_dict(), strict=True)
    return model.eval(), flavor["config"]


def predict(model, inputs):
    """N x 1 x 28 x 28 training-scale inputs -> N x 10 probabilities, normalised here as fmnist_serve does."""
    x = torch.as_tensor(inputs, dtype=torch.float32)
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise ValueError(f"inputs: expected shape [N, 1, 28, 28], got {list(x.shape)}")
    with torch.inference_mode():
        return torch.softmax(model((x - MEAN) / STD), dim=1)


def make_app(model, config):
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI(title="fmnist FastAPI contender")

    @app.get("/ping")
    async def ping():
        return {"status": "ok", "architecture": config["architecture"]}

    @app.post("/invocations")
    async def invocations(request: Request):
        try:
            body = await request.json()
            if not isinstance(body, dict) or "inputs" not in body:
                raise ValueError('expected a JSON object with "inputs"')
            return {"predictions": predict(model, body["inputs"]).tolist()}
        except (ValueError, TypeError, RuntimeError) as e:
            return JSONResponse({"error_code": "BAD_REQUEST", "message": str(e)}, status_code=400)

    return app


def check_against(model, url, count, tolerance):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fmnist_payload import test_images

    images, labels = test_images(count)
    request = urllib.request.Request(url.rstrip("/") + "/invocations", json.dumps({"inputs": images}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        theirs = torch.tensor(json.load(r)["predictions"])
    ours = predict(model, images)
    diff = (theirs - ours).abs().max().item()
    right = int((ours.argmax(1) == torch.tensor(labels)).sum())
    print(json.dumps({"images": count, "max_abs_diff": diff, "tolerance": tolerance,
                      "accuracy_here": right / count, "same": diff <= tolerance}))
    return 0 if diff <= tolerance else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="a model directory (MLmodel and model.pt)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8090)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument("--check-against", metavar="URL", help="compare with the server at URL and exit")
    ap.add_argument("--images", type=int, default=64, help="with --check-against: test images (default 64)")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="with --check-against (default 1e-4)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, config = load_model(a.model)
    if a.check_against:
        return check_against(model, a.check_against, a.images, a.tolerance)
    import uvicorn

    uvicorn.run(make_app(model, config), host=a.host, port=a.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
