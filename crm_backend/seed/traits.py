"""Hidden customer traits behind the synthetic data.

They are never stored or served: `draw_traits(seed, chunk, n)` regenerates them exactly, so
scoring work can check what its models recover against the truth.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Traits:
    value: np.ndarray            # spend level, mean 1 (log-normal)
    loyalty: np.ndarray          # 0..1, steadier buyers
    churn: np.ndarray            # 0..1, chance of stopping to buy
    responsiveness: np.ndarray   # 0..1, reaction to campaigns
    ticket_proneness: np.ndarray  # mean 1, how often support is needed

    def __len__(self) -> int:
        return len(self.value)


def draw_traits(seed: int, chunk: int, n: int) -> Traits:
    rng = np.random.default_rng([seed, 0, chunk])
    value = rng.lognormal(-0.18, 0.6, n)
    loyalty = rng.beta(2, 2, n)
    # Loyal customers churn less: the traits are correlated, as in real shops.
    churn = np.clip(rng.beta(2, 4, n) * (1.3 - 0.6 * loyalty), 0, 1)
    responsiveness = rng.beta(1.5, 4, n)
    ticket_proneness = rng.gamma(2.0, 0.5, n)
    return Traits(value, loyalty, churn, responsiveness, ticket_proneness)
