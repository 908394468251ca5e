"""Adversarial training on the embedding table: FGM (Miyato et al. 2017) and PGD (Madry et al. 2018).

Called after the normal backward pass: the embedding weights are pushed along their gradient, the
loss is back-propagated again at the perturbed point (adding to the clean gradients), and the weights
are restored before the optimiser step.
"""

from collections.abc import Callable, Iterable

import torch
from torch import nn

# name -> (steps, step size, epsilon) -> (steps taken, size of each step): FGM is one step of epsilon
ADVERSARIAL: dict[str, Callable[[int, float, float], tuple[int, float]]] = {
    "fgm": lambda steps, step_size, epsilon: (1, epsilon),
    "pgd": lambda steps, step_size, epsilon: (steps, step_size),
}


def adversarial_backward(
    parameters: Iterable[nn.Parameter],
    embedding: nn.Embedding,
    loss_at_current_weights: Callable[[], torch.Tensor],
    method: str,
    epsilon: float,
    steps: int = 3,
    step_size: float = 0.3,
) -> float:
    """Add the adversarial loss's gradients to ``parameters``' clean ones; returns that loss.

    FGM: one step of size ``epsilon`` along the embedding gradient. PGD: ``steps`` steps of
    ``step_size``, each along the gradient at the current perturbed point, projected onto the
    ``epsilon`` ball; only the last step's gradients are added to the clean ones.
    """
    if method not in ADVERSARIAL:
        raise ValueError(f"adversarial must be one of {sorted(ADVERSARIAL)} or null, got {method!r}")
    weight = embedding.weight
    if weight.grad is None:
        return 0.0
    original = weight.data.clone()
    clean = {p: p.grad.clone() for p in parameters if p.grad is not None}
    total_steps, size = ADVERSARIAL[method](steps, step_size, epsilon)
    loss_value = 0.0
    for step in range(total_steps):
        norm = torch.linalg.vector_norm(weight.grad)
        if norm == 0 or not torch.isfinite(norm):
            break
        weight.data.add_(weight.grad * (size / norm))
        offset = weight.data - original
        offset_norm = torch.linalg.vector_norm(offset)
        if offset_norm > epsilon:  # project back onto the epsilon ball
            weight.data.copy_(original + offset * (epsilon / offset_norm))
        last = step == total_steps - 1
        for p, grad in clean.items():
            if last:
                p.grad.copy_(grad)  # the adversarial gradients add to the clean ones
            else:
                p.grad.zero_()  # the next step follows the gradient at this point alone
        loss = loss_at_current_weights()
        loss.backward()
        loss_value = loss.item()
    weight.data.copy_(original)
    return loss_value
