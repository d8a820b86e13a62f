"""GeLU vs ReLU and their derivatives (Q34)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures import style

# The exam's form of GeLU is z * sigmoid(C z), a close approximation of z * Phi(z).
C = 1.702


def _phi_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _phi_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def gelu_relu(*, z_max: float, step: float) -> tuple[Figure, dict[str, Any]]:
    """GeLU(z) = z Phi(z) next to ReLU, and their derivatives."""
    count = round(2 * z_max / step) + 1
    z = [round(-z_max + i * step, 10) for i in range(count)]
    curves = {
        "z": z,
        "relu": [max(0.0, v) for v in z],
        # ReLU has no derivative at 0; the convention (subgradient) 0 is stored there.
        "relu_prime": [1.0 if v > 0 else 0.0 for v in z],
        "gelu": [v * _phi_cdf(v) for v in z],
        # d/dz z Phi(z) = Phi(z) + z phi(z)
        "gelu_prime": [_phi_cdf(v) + v * _phi_pdf(v) for v in z],
        "gelu_sigmoid": [v * _sigmoid(C * v) for v in z],
        # d/dz z s(cz) = s(cz) + c z s(cz) (1 - s(cz))
        "gelu_sigmoid_prime": [
            _sigmoid(C * v) + C * v * _sigmoid(C * v) * (1.0 - _sigmoid(C * v)) for v in z
        ],
    }

    fig = style.new_figure(12.0, 5.0)
    left, right = fig.subplots(1, 2)
    zs = np.array(z)
    negative, positive = zs < 0, zs > 0
    left.plot(zs, curves["relu"], color=style.ORANGE, linewidth=4, label="ReLU")
    left.plot(zs, curves["gelu"], color=style.BLUE, label=r"GeLU $z\,\Phi(z)$")
    left.plot(zs, curves["gelu_sigmoid"], ":", color=style.INK, linewidth=2,
              label=r"$z\,\sigma(1.702z)$")
    left.set_title("Activation")
    left.set_xlabel("z")
    left.legend(loc="upper left")

    relu_prime = np.array(curves["relu_prime"])
    right.plot(zs[negative], relu_prime[negative], color=style.ORANGE, linewidth=4, label="ReLU'")
    right.plot(zs[positive], relu_prime[positive], color=style.ORANGE, linewidth=4)
    right.plot(zs, curves["gelu_prime"], color=style.BLUE, label="GeLU'")
    right.plot(zs, curves["gelu_sigmoid_prime"], ":", color=style.INK, linewidth=2,
               label=r"$(z\,\sigma(1.702z))'$")
    right.annotate(r"$\to 0$ as $z \to -\infty$", (-3.9, 0.0), xytext=(-3.9, 0.32), fontsize=13)
    right.annotate(r"$\to 1$ as $z \to +\infty$", (3.9, 1.0), xytext=(3.9, 0.62),
                   ha="right", fontsize=13)
    right.annotate("differ near 0:\nGeLU' dips below 0\nand overshoots 1", (0.0, 0.5),
                   xytext=(-3.9, 0.75), fontsize=12, color=style.BLUE)
    right.set_title("Derivative")
    right.set_xlabel("z")
    right.set_ylim(-0.25, 1.25)
    right.legend(loc="lower right")
    return fig, curves
