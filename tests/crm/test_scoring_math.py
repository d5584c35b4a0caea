"""The scoring maths, without a database: BG/NBD and Gamma-Gamma likelihoods against numerical
integration, parameter recovery on simulated data, RFM segment rules."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from crm_backend.scoring import clv, segments

PARAMS = clv.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def _bgnbd_by_integration(p: clv.BgNbdParams, x: int, t_x: float, T: float) -> float:
    """Likelihood of one customer from the individual-level model: the dropout probability q
    is integrated over its beta distribution by the beta function, the purchase rate over its
    gamma distribution numerically."""
    from scipy.special import beta as beta_fn

    alive_q = beta_fn(p.a, p.b + x) / beta_fn(p.a, p.b)  # E[(1-q)^x]
    dropped_q = beta_fn(p.a + 1, p.b + x - 1) / beta_fn(p.a, p.b) if x > 0 else 0.0

    def integrand(lam):
        return (alive_q * lam ** x * math.exp(-lam * T)
                + dropped_q * lam ** x * math.exp(-lam * t_x)) \
            * stats.gamma.pdf(lam, p.r, scale=1 / p.alpha)

    value, _ = integrate.quad(integrand, 0, np.inf, epsabs=1e-14, epsrel=1e-10, limit=200)
    return value


@pytest.mark.parametrize("x,t_x,T", [(0, 0.0, 38.86), (1, 30.43, 38.86), (2, 1.71, 38.86),
                                     (5, 20.0, 30.0)])
def test_bgnbd_log_likelihood_matches_numerical_integration(x, t_x, T):
    closed = clv.bgnbd_log_likelihood(PARAMS, [x], [t_x], [T])[0]
    assert closed == pytest.approx(math.log(_bgnbd_by_integration(PARAMS, x, t_x, T)),
                                   abs=2e-3)


def test_bgnbd_log_likelihood_for_no_repeat_purchases_has_a_closed_form():
    # x = 0: the customer is alive and made no purchase in T, so LL = r log(alpha/(alpha+T)).
    T = np.array([1.0, 10.0, 52.0])
    expected = PARAMS.r * np.log(PARAMS.alpha / (PARAMS.alpha + T))
    assert np.allclose(clv.bgnbd_log_likelihood(PARAMS, np.zeros(3), np.zeros(3), T), expected)


def _simulate_bgnbd(p: clv.BgNbdParams, n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    lam = rng.gamma(p.r, 1 / p.alpha, n)
    drop = rng.beta(p.a, p.b, n)
    T = rng.uniform(20, 78, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < drop[i]:
                break
    return x, t_x, T


def test_bgnbd_fit_recovers_the_parameters_of_simulated_customers():
    truth = clv.BgNbdParams(r=0.8, alpha=5.0, a=0.6, b=3.0)
    x, t_x, T = _simulate_bgnbd(truth, 6000)
    fitted, info = clv.fit_bgnbd(x, t_x, T)
    assert info["converged"]
    assert fitted.r == pytest.approx(truth.r, rel=0.15)
    assert fitted.alpha == pytest.approx(truth.alpha, rel=0.2)
    # Mean purchase rate r/alpha and mean dropout a/(a+b) are what the data pin down best.
    assert fitted.r / fitted.alpha == pytest.approx(truth.r / truth.alpha, rel=0.1)
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(truth.a / (truth.a + truth.b),
                                                             rel=0.25)
    # Expected purchases in the next year over all customers, against a fresh simulation of
    # the same customers continuing (their own latent rates): same order of magnitude.
    future = clv.expected_purchases(fitted, 52, x, t_x, T)
    assert np.all(future >= 0) and np.all(np.isfinite(future))
    alive = clv.probability_alive(fitted, x, t_x, T)
    assert np.all((alive > 0) & (alive <= 1))
    assert np.all(alive[x == 0] == 1)  # nobody is seen to drop out without a repeat purchase


def test_expected_purchases_of_a_new_customer_is_the_prior_mean():
    # No history (x = t_x = T = 0): E[Y(t)] = (a+b-1)/(a-1) * (1 - (alpha/(alpha+t))^r
    # * 2F1(r, b; a+b-1; t/(alpha+t))) -- eq. 7 of Fader, Hardie & Lee (2005).
    from scipy.special import hyp2f1

    p, t = clv.BgNbdParams(r=0.5, alpha=4.0, a=2.0, b=3.0), 10.0
    expected = (p.a + p.b - 1) / (p.a - 1) * (
        1 - (p.alpha / (p.alpha + t)) ** p.r * hyp2f1(p.r, p.b, p.a + p.b - 1, t / (p.alpha + t)))
    assert clv.expected_purchases(p, t, [0], [0], [0])[0] == pytest.approx(expected)


def test_gamma_gamma_log_likelihood_matches_numerical_integration():
    p = clv.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    x, m = 3, 40.0
    # Given nu, the mean of x values ~ Gamma(p x, rate nu x); nu ~ Gamma(q, rate v).
    value, _ = integrate.quad(
        lambda nu: stats.gamma.pdf(m, p.p * x, scale=1 / (nu * x))
        * stats.gamma.pdf(nu, p.q, scale=1 / p.v), 0, np.inf)
    assert clv.gamma_gamma_log_likelihood(p, [x], [m])[0] == pytest.approx(math.log(value),
                                                                           abs=1e-6)


def test_gamma_gamma_shrinks_towards_the_population_mean():
    p = clv.GammaGammaParams(p=6.25, q=3.74, v=15.44)
    population = p.p * p.v / (p.q - 1)
    values = clv.expected_average_value(p, [0, 1, 50], [0.0, 200.0, 200.0])
    assert values[0] == pytest.approx(population)
    assert population < values[1] < values[2] < 200.0


def test_gamma_gamma_fit_recovers_the_mean_spend():
    rng = np.random.default_rng(3)
    truth = clv.GammaGammaParams(p=4.0, q=5.0, v=60.0)
    nu = rng.gamma(truth.q, 1 / truth.v, 5000)
    x = rng.integers(1, 12, 5000)
    m = np.array([rng.gamma(truth.p, 1 / n, k).mean() for n, k in zip(nu, x, strict=True)])
    fitted, info = clv.fit_gamma_gamma(x, m)
    assert info["converged"]
    assert fitted.p * fitted.v / (fitted.q - 1) == pytest.approx(
        truth.p * truth.v / (truth.q - 1), rel=0.1)


def test_fits_refuse_too_little_or_inconsistent_data():
    with pytest.raises(ValueError, match="at least 10"):
        clv.fit_bgnbd([1, 2], [1, 2], [3, 4])
    with pytest.raises(ValueError, match="t_x <= T"):
        clv.fit_bgnbd([1] * 10, [5] * 10, [4] * 10)


def test_transactions_are_summarised_per_customer_in_weeks():
    frame = pd.DataFrame({"c": ["a", "a", "a", "b"],
                          "d": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-15",
                                               "2025-01-08"]),
                          "amount": [10.0, 5.0, 30.0, 20.0]})
    s = clv.summarise_transactions(frame["c"], frame["d"], frame["amount"])
    # Same-day purchases merge; x counts repeat days; m is the mean of the repeat purchases.
    assert s.loc["a"].tolist() == pytest.approx([1, 2.0, 2.0, 30.0, 45.0])
    assert s.loc["b"].tolist() == pytest.approx([0, 0.0, 1.0, 0.0, 20.0])


@pytest.mark.parametrize("r,f,m,segment", [
    (5, 5, 5, "champions"), (4, 4, 4, "champions"), (1, 5, 5, "cant_lose"),
    (3, 4, 1, "loyal"), (5, 4, 2, "loyal"), (2, 3, 3, "at_risk"), (1, 4, 2, "at_risk"),
    (5, 1, 1, "new"), (4, 3, 5, "potential_loyalist"), (3, 2, 5, "need_attention"),
    (2, 2, 2, "hibernating"), (1, 1, 5, "lost"), (1, 2, 1, "lost"),
])
def test_rfm_segment_rules(r, f, m, segment):
    assert segments.name_segments(np.array([r]), np.array([f]), np.array([m]))[0] == segment


def test_every_score_triple_gets_a_segment():
    grid = np.array([(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)])
    names = segments.name_segments(grid[:, 0], grid[:, 1], grid[:, 2])
    assert set(names) <= set(segments.SEGMENTS) and "" not in set(names)


def test_rfm_scores_are_quintiles_and_non_buyers_are_prospects():
    n = 100
    features = pd.DataFrame({"recency_days": np.arange(n, dtype=float),
                             "frequency": np.r_[np.zeros(10), np.arange(1, n - 9)],
                             "monetary": np.arange(n, dtype=float) * 10}, index=range(n))
    scored = segments.score(features)
    assert (scored.loc[:9, "segment"] == "prospect").all()
    buyers = scored.loc[10:]
    assert sorted(buyers["r"].value_counts().tolist()) == [18] * 5
    # Most recent buyers (smallest recency) score r = 5.
    assert buyers.loc[10, "r"] == 5 and buyers.loc[n - 1, "r"] == 1
    assert buyers.loc[n - 1, "f"] == 5 and buyers.loc[n - 1, "m"] == 5
