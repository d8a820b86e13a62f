"""GeLU vs ReLU and their derivatives (Q34)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from examdeck.figures.style import Canvas

# The exam's form of GeLU is z * sigmoid(C z), a close approximation of z * Phi(z).
C = 1.702


def _phi_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def _phi_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def gelu_relu(*, z_max: float, step: float) -> dict[str, Any]:
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

    return curves


def plot_gelu_relu(data: dict[str, Any], canvas: Canvas) -> Figure:
    """Activations, then derivatives (side by side, or stacked on a phone)."""
    c = canvas.colors
    fig = canvas.figure(desktop_height=3.6, phone_height=6.4)
    left, right = fig.subplots(2, 1, sharex=True) if canvas.phone else fig.subplots(1, 2)
    zs = np.array(data["z"])
    negative, positive = zs < 0, zs > 0
    left.plot(zs, data["relu"], color=c.orange, linewidth=4, label="ReLU")
    left.plot(zs, data["gelu"], color=c.blue, label=r"GeLU $z\,\Phi(z)$")
    left.plot(zs, data["gelu_sigmoid"], ":", color=c.ink, linewidth=2, label=r"$z\,\sigma(1.702z)$")
    left.set_title("Activation")
    left.legend(loc="upper left")

    relu_prime = np.array(data["relu_prime"])
    right.plot(zs[negative], relu_prime[negative], color=c.orange, linewidth=4, label="ReLU'")
    right.plot(zs[positive], relu_prime[positive], color=c.orange, linewidth=4)
    right.plot(zs, data["gelu_prime"], color=c.blue, label="GeLU'")
    right.plot(zs, data["gelu_sigmoid_prime"], ":", color=c.ink, linewidth=2, label=r"$(z\,\sigma(1.702z))'$")
    note = "near 0, GeLU'\ndips below 0\nand overshoots 1"
    if canvas.phone:
        right.text(3.9, -0.2, "GeLU' < 0 and\n> 1 near 0", ha="right", va="bottom", color=c.blue)
    else:
        right.text(-3.9, 1.2, note, va="top", color=c.blue)
    right.set_title("Derivative" if canvas.phone else "Derivative (same colours)")
    right.set_ylim(-0.25, 1.25)
    for ax in (right,) if canvas.phone else (left, right):
        ax.set_xlabel("z")
    return fig
