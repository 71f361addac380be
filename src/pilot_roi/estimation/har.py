"""One treated series against one or two controls: the DiD as a single treated-minus-control time series.

With one or two control sites there is no placebo variance (it needs three controls) and cluster-robust errors
have one or two clusters on one side; the contrast series d_t = mean treated - mean control carries the DiD, and
its autocorrelation is handled by a heteroskedasticity- and autocorrelation-robust (HAR) variance. Here: the
overall effect (`hac_contrast`), the event study's leads and lags (`har_event_study`) and the pre-trend test
(`hac_pre_trend`), all on the same series, the same seasonal terms and the same long-run variance. A monthly or
coarser series is too short for a HAR variance (one or two degrees of freedom): its effect and pre-trend test come
from GLS with AR(1) errors instead (`ar1_contrast`, `ar1_pre_trend`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from pilot_roi.estimation.inference import Inference, from_vcov, nan_mean
from pilot_roi.estimation.panel import PanelData

HAR_COSINES_PER_T23 = 0.15  # ν = floor(0.15 T^(2/3)) cosines in the HAR variance (see `hac_contrast`)


def hac_contrast(panel: PanelData, treated: np.ndarray, controls: np.ndarray, alpha: float) -> Inference:
    """DiD as one time series: d_t = mean treated - mean control (each site less its pre-period mean), β = mean
    post d - mean pre d.

    Heteroskedasticity- and autocorrelation-robust (HAR) variance by equal-weighted cosines with
    ν = floor(0.15 T^(2/3)) and Student t(ν) critical values (Lazarus, Lewis, Stock & Watson 2018): with
    fixed-ν critical values the size stays close to nominal under strong autocorrelation, where
    Newey-West with its usual bandwidth rejects too often. LLSW's ν = 0.4 T^(2/3) balances size against
    power; on our daily panels (1 treated site, 2 controls, AR(1) noise) it rejected a true null 5.7% of
    the time over 8,000 simulations, 0.15 T^(2/3) 4.9%: we give up a little power to keep the size.
    Common timing only. The statsmodels Newey-West p-value is kept in `extra` for comparison.
    """
    import statsmodels.api as sm

    dd, periods, go = _observed_contrast(panel, treated, controls)
    post = (periods >= go).astype(np.float64)
    n = dd.size
    z = _constant_and_seasons(panel, periods, go)
    # FWL: residualise the post indicator and the series on the constant and the seasonal terms
    proj = z @ np.linalg.lstsq(z, np.column_stack([post, dd]), rcond=None)[0]
    x = post - proj[:, 0]
    yr = dd - proj[:, 1]
    sxx = float(x @ x)
    beta = float(x @ yr) / sxx
    resid = yr - beta * x
    omega, dof = _equal_weighted_cosines(resid, np.column_stack([x, z]))
    vcov = np.array([[omega / sxx]])
    inf = from_vcov(
        np.array([beta]),
        vcov,
        dof,
        alpha,
        f"HAR (equal-weighted cosine, {dof:.0f} df) on the treated-minus-control series",
    )
    lags = max(1, math.floor(4 * (n / 100) ** (2 / 9)))
    nw = sm.OLS(dd, np.column_stack([post, z])).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True})
    return Inference(
        inf.estimate,
        inf.se,
        inf.ci_low,
        inf.ci_high,
        inf.p_value,
        inf.vcov,
        inf.dof,
        inf.label,
        {"newey_west_p_value": float(nw.pvalues[0]), "newey_west_lags": lags, "seasonal_terms": int(z.shape[1] - 1)},
    )


def ar1_contrast(panel: PanelData, treated: np.ndarray, controls: np.ndarray, alpha: float) -> Inference | None:
    """The same contrast series on a monthly or coarser grid, by GLS with AR(1) errors, ρ integrated out over its
    likelihood (the monthly ITS's segmented regression without a trend: `_its_core.segmented_fit`); None for daily
    and weekly series, which keep `hac_contrast`. A period missing inside the series stays a gap in time: the AR(1)
    is whitened across it by its two-period correlation (`fit_ar1_regression`'s `periods`).

    Why: ν = floor(0.15 T^(2/3)) cosines are two on 48 months and the seasonal terms absorb about one, so the HAR
    interval is t(1), ±12.7 standard errors. On simulated monthly pilots (1 treated site, 2 controls, 36 + 12
    months, AR(1) site noise) the HAR interval was 3 times as wide as this one (2.3-3.4 over the designs), whose
    coverage stayed 95.9-99.4% (`bench/validation/har_monthly.py`). The go-live period gets an effect of its own
    (`onset_periods=1`), as in the monthly ITS: GLS would otherwise learn the step mostly from a go-live month that
    is only partly treated.
    """
    from pilot_roi.estimation._its_core import segmented_fit

    found = _coarse_series(panel, treated, controls)
    if found is None:
        return None
    series, go_live, seasonal_periods = found
    try:
        fit = segmented_fit(
            series,
            go_live,
            seasonal_periods=seasonal_periods,
            slope_change=False,
            trend=False,
            cov="ar1",
            onset_periods=1,
            alpha=alpha,
        )
    except ValueError:  # too few periods for the columns
        return None
    label = _ar1_label(fit.df)
    extra = {"ar1_rho": fit.info["ar1_rho"], "onset_periods": fit.info["onset_periods"]}
    inf = from_vcov(np.array([fit.att]), np.array([[fit.att_se**2]]), fit.df, alpha, label)
    return Inference(inf.estimate, inf.se, inf.ci_low, inf.ci_high, inf.p_value, inf.vcov, inf.dof, inf.label, extra)


def ar1_pre_trend(panel: PanelData, treated: np.ndarray, controls: np.ndarray) -> float | None:
    """`hac_pre_trend` for the series `ar1_contrast` takes: the slope of the contrast series before go-live (beside a
    constant and the seasonal terms) by GLS with AR(1) errors, ρ integrated out; its p-value from the mixture of
    t's over ρ. None where `ar1_contrast` is None or the pre-period is too short for the columns."""
    from pilot_roi.estimation._its_core import seasonal_terms as cycles
    from pilot_roi.estimation.ar1_regression import fit_ar1_regression, two_sided_p

    found = _coarse_series(panel, treated, controls)
    if found is None:
        return None
    series, go_live, seasonal_periods = found
    seen = np.flatnonzero(np.isfinite(series[:go_live]))
    t = np.arange(go_live, dtype=np.float64)
    season, _ = cycles(t, seasonal_periods, go_live)
    x = np.column_stack([np.ones(go_live), (t - t.mean()) / max(go_live, 1), season])[seen]
    if seen.size - x.shape[1] < 3 or np.linalg.matrix_rank(x) < x.shape[1]:
        return None
    g = np.zeros(x.shape[1])
    g[1] = 1.0
    return two_sided_p(fit_ar1_regression(series[seen], x, seen), g)


def _coarse_series(
    panel: PanelData, treated: np.ndarray, controls: np.ndarray
) -> tuple[np.ndarray, int, tuple[float, ...]] | None:
    """(the contrast series on its monthly or coarser grid, from its first to its last observed period, NaN where a
    period is missing; the go-live position; the grid's seasonal periods), None for daily or weekly series."""
    positions = _coarse_positions(panel)
    if positions is None:
        return None
    grid_positions, seasonal_periods = positions
    d, go = _contrast_series(panel, treated, controls)
    series = np.full(int(grid_positions[-1]) + 1, np.nan)
    series[grid_positions] = d
    seen = np.flatnonzero(np.isfinite(series))
    if seen.size == 0:
        return None
    series = series[seen[0] : seen[-1] + 1]
    go_live = int(grid_positions[go]) - int(seen[0])
    if not 0 < go_live < series.size:
        return None
    return series, go_live, seasonal_periods


def _coarse_positions(panel: PanelData) -> tuple[np.ndarray, tuple[float, ...]] | None:
    """(each period's position on its monthly or coarser grid, the grid's seasonal periods), None for daily or
    weekly series."""
    from pilot_roi.estimation._its_core import detect_grid

    grid = detect_grid(panel.time_ordinal, panel.time_kind, panel.frequency)
    if grid.frequency in ("daily", "weekly"):
        return None
    return np.asarray(grid.position, dtype=np.int64), grid.seasonal_periods


def _contrast_series(panel: PanelData, treated: np.ndarray, controls: np.ndarray) -> tuple[np.ndarray, int]:
    """(d_t = mean treated − mean control, each site less its pre-period mean, over every period; the go-live index)."""
    y = panel.wide()
    go = int(panel.first_treated[treated].min())
    # each site as its deviation from its own pre-period mean (its overall mean without one): on a balanced panel
    # that moves d by a constant the intercept takes, with missing days it keeps a site's level out of the
    # contrast (a control's constant once moved the estimate by 11 standard errors when it missed days)
    with np.errstate(invalid="ignore"):
        level = nan_mean(y[:, :go], axis=1)
        level = np.where(np.isfinite(level), level, nan_mean(y, axis=1))
        own = y - level[:, None]
        d = nan_mean(own[treated], axis=0) - nan_mean(own[controls], axis=0)
    return d, go


def _observed_contrast(
    panel: PanelData, treated: np.ndarray, controls: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """(d_t on the periods where it is observed, those periods' indices, the go-live index)."""
    d, go = _contrast_series(panel, treated, controls)
    periods = np.flatnonzero(np.isfinite(d))
    return d[periods], periods, go


def _constant_and_seasons(panel: PanelData, periods: np.ndarray, go: int) -> np.ndarray:
    """(n, 1 + s): the constant and the seasonal terms on the given periods."""
    seasonal = seasonal_terms(panel.time_ordinal[periods], panel.time_kind, n_pre_days=_span_days(panel, go))
    return np.column_stack([np.ones(periods.size), seasonal])


def har_event_study(
    panel: PanelData, treated: np.ndarray, controls: np.ndarray, period_bin: np.ndarray, alpha: float
) -> tuple[np.ndarray, Inference] | None:
    """Leads and lags of the contrast series with intervals: (the bins estimated, their `Inference`), None when
    there is nothing to estimate.

    `period_bin` (n_times,) gives each period's event-time bin (negative before go-live). Coefficient k is the mean
    of the seasonally adjusted d_t over bin k less its mean over the whole pre-period, the seasonal terms being
    those `hac_contrast` fits beside the constant and the post step. That decomposes `hac_contrast`'s estimate
    (post mean less pre mean): the lags average to it and the leads to zero, each weighted by its periods. The
    usual reference, the one bin before go-live, would carry that bin's noise into every coefficient: a shutdown
    in the 91 days before a demo pilot's go-live put all its leads near -5,000 GJ against an effect of -1,250.
    Each coefficient is linear in d, c_k'd, and Var = c_k' Σ c_k with Σ the error's autocovariance over the
    observed periods: its shape (how the variance spreads over lags) from the AR(p) that fits the residual best
    (Yule-Walker, p by AIC), its scale the same HAR long-run variance as the overall estimate, t(ν) as there. A bin
    mean of weeks or months is governed by the long-run variance, which the AR fit alone underestimates (90%
    coverage with ρ = 0.9 where this gives 97%; `bench/validation/har_event_study.py`). A monthly or coarser series,
    whose HAR variance has one or two degrees of freedom, takes the bins' intervals from GLS with AR(1) errors as its
    overall effect does (`_ar1_bins`).
    """
    dd, periods, go = _observed_contrast(panel, treated, controls)
    bins = period_bin[periods]
    pre = bins < 0
    levels = np.unique(bins)
    if dd.size < 8 or not pre.any() or pre.all():
        return None
    x = np.column_stack([(periods >= go).astype(np.float64), _constant_and_seasons(panel, periods, go)])
    coef_map = np.linalg.pinv(x)  # (k, n): the regression's coefficients as linear maps of d
    means = np.zeros((levels.size, dd.size))
    for row, k in enumerate(levels):
        means[row, bins == k] = 1.0 / np.count_nonzero(bins == k)
    means[:, pre] -= 1.0 / np.count_nonzero(pre)
    weights = means - (means @ x[:, 2:]) @ coef_map[2:]  # c_k: bin means of d less its fitted seasons
    coarse = _coarse_positions(panel)
    if coarse is not None:
        try:
            return levels, _ar1_bins(weights, dd, x, coarse[0][periods], alpha)
        except ValueError:  # fewer than three residual degrees of freedom: no bins rather than a failed estimate
            return None
    resid = dd - x @ (coef_map @ dd)
    omega, dof = _equal_weighted_cosines(resid, x)
    shape = _ar_autocorrelation_shape(resid, int(periods[-1] - periods[0]) + 1)
    if shape is None or not (omega > 0 and dof >= 1):
        return None
    sigma = omega * shape[np.abs(periods[:, None] - periods[None, :])]
    vcov = weights @ sigma @ weights.T
    label = f"HAR (equal-weighted cosine, {dof:.0f} df; AR autocorrelation shape) on the treated-minus-control series"
    return levels, from_vcov(weights @ dd, vcov, dof, alpha, label)


def _ar1_bins(weights: np.ndarray, dd: np.ndarray, x: np.ndarray, positions: np.ndarray, alpha: float) -> Inference:
    """The bins c_k'd of a monthly or coarser series (observed at grid `positions`) with intervals from its AR(1)
    errors: given ρ, Var = s²(ρ) c_k' R(ρ) c_k (R the AR(1) autocovariance of unit innovations at those positions'
    distances); over ρ the mixture of t's that `ar1_contrast` takes for the overall effect, ρ's weights from the
    same regression as the seasons."""
    from pilot_roi.estimation.ar1_regression import fit_ar1_regression, mixture_interval, mixture_p_value

    fit = fit_ar1_regression(dd, x, positions)
    lags = np.abs(positions[:, None] - positions[None, :])
    scale = np.empty((weights.shape[0], fit.rho.size))
    for j, (rho, noise) in enumerate(zip(fit.rho, fit.noise_var, strict=True)):
        sigma = noise * rho**lags / (1.0 - rho * rho)
        scale[:, j] = np.sqrt(np.maximum(np.einsum("ka,ab,kb->k", weights, sigma, weights), 0.0))
    estimate = weights @ dd
    pairs = list(zip(estimate, scale, strict=True))
    bounds = np.array([mixture_interval(b, sc, fit.weight, fit.df, alpha) for b, sc in pairs])
    p = np.array([mixture_p_value(b, sc, fit.weight, fit.df) for b, sc in pairs])
    # the se that makes estimate ± t(df) se the mixture's own interval, as the segmented ITS reports it
    se = 0.5 * (bounds[:, 1] - bounds[:, 0]) / float(stats.t.ppf(1 - alpha / 2, fit.df))
    return Inference(estimate, se, bounds[:, 0], bounds[:, 1], p, np.diag(se**2), float(fit.df), _ar1_label(fit.df))


def _ar1_label(df: float) -> str:
    return (
        f"GLS with AR(1) errors (ρ integrated over its likelihood, t with {df:.0f} df) "
        "on the treated-minus-control series"
    )


def _ar_autocorrelation_shape(resid: np.ndarray, n_lags: int) -> np.ndarray | None:
    """Autocovariances at lags 0..n_lags-1 of the AR(p) fitted to `resid` (Yule-Walker by Levinson-Durbin, p ≤
    10 log10 n chosen by AIC), scaled to a long-run variance of one; None for a residual with no variance."""
    from statsmodels.tsa.arima_process import arma_acovf
    from statsmodels.tsa.stattools import acovf, levinson_durbin

    n = resid.size
    p_max = max(0, min(int(10 * math.log10(n)), n // 4))
    acov = acovf(resid, demean=False, nlag=p_max, fft=False)
    if not acov[0] > 0:
        return None
    innovation = np.array([acov[0]])
    phi = np.zeros((1, 1))
    if p_max:
        ld = levinson_durbin(acov, nlags=p_max, isacov=True)
        innovation = np.r_[acov[0], ld.sigma[1:]]
        phi = ld.phi
    aic = n * np.log(np.maximum(innovation, np.finfo(float).tiny)) + 2.0 * np.arange(innovation.size)
    p = int(np.argmin(aic))
    ar = phi[1 : p + 1, p]
    gamma = arma_acovf(np.r_[1.0, -ar], np.array([1.0]), nobs=n_lags, sigma2=float(innovation[p]))
    return gamma * (1.0 - ar.sum()) ** 2 / float(innovation[p])


def _equal_weighted_cosines(resid: np.ndarray, regressors: np.ndarray) -> tuple[float, float]:
    """(long-run variance of the stationary error behind `resid`, its degrees of freedom) by ν = floor(0.15 T^(2/3))
    equal-weighted cosines.

    The regressors absorb part of the low-frequency cosines, so each cosine's share left in the residual space,
    1 - h_j, replaces the count ν in the mean (unbiased under white noise) and the degrees of freedom are the
    effective count Σ (1 - h_j).
    """
    n = resid.shape[0]
    nu = max(2, math.floor(HAR_COSINES_PER_T23 * n ** (2 / 3)))
    grid = (np.arange(n) + 0.5) / n
    cos = np.array([math.sqrt(2.0 / n) * np.cos(math.pi * j * grid) for j in range(1, nu + 1)])  # (ν, n)
    q, _ = np.linalg.qr(regressors)
    h = np.sum((cos @ q) ** 2, axis=1)
    lam = cos @ resid
    keep = 1.0 - h
    return float(np.sum(lam**2) / np.sum(keep)), float(np.sum(keep))


def hac_pre_trend(panel: PanelData, treated: np.ndarray, controls: np.ndarray) -> float | None:
    """p-value of a linear trend in the treated-minus-control series before go-live (`hac_contrast`'s d_t, net of a
    constant and the same seasonal terms), by `hac_contrast`'s HAR variance on the pre-period alone and t(ν).

    With one or two controls there is no placebo variance for the event study's leads, and their joint test with a
    HAR variance had no power (bins competing with the annual harmonics); a drift that starts before go-live shows
    as a slope. None when the pre-period is too short to hold one.
    """
    d, go = _contrast_series(panel, treated, controls)
    ok = np.isfinite(d[:go])
    n = int(ok.sum())
    if n < 8:
        return None
    t = (np.arange(go)[ok] - (go - 1) / 2.0) / max(go, 1)
    seasonal = seasonal_terms(panel.time_ordinal[:go][ok], panel.time_kind, n_pre_days=_span_days(panel, go))
    z = np.column_stack([np.ones(n), seasonal])
    proj = z @ np.linalg.lstsq(z, np.column_stack([t, d[:go][ok]]), rcond=None)[0]
    x, yr = t - proj[:, 0], d[:go][ok] - proj[:, 1]
    sxx = float(x @ x)
    if sxx <= 0:
        return None
    slope = float(x @ yr) / sxx
    omega, dof = _equal_weighted_cosines(yr - slope * x, np.column_stack([x, z]))
    if not (omega > 0 and dof >= 1):
        return None
    return float(2.0 * stats.t.sf(abs(slope) / math.sqrt(omega / sxx), dof))


def _span_days(panel: PanelData, go: int) -> int:
    """Calendar days (or periods) covered by the pre-period."""
    return int(panel.time_ordinal[go - 1] - panel.time_ordinal[0] + 1) if go >= 1 else 0


def seasonal_terms(ordinal: np.ndarray, time_kind: str, n_pre_days: int) -> np.ndarray:
    """Seasonal regressors for a date series: day-of-week dummies (when the data are daily and the pre-period has
    two weeks) and up to two annual harmonics (when the pre-period covers a year), as many as the periods of a
    year can carry: two for daily, weekly and monthly data, for quarterly ones the first and the cosine of the
    second (whose sine is zero on every quarter), none for yearly data (one period a year has no season).

    Monthly and coarser data take their phase from the calendar month, not the day of the year: months labelled
    on the 1st and on the last day are the same months, and day counts would give them phases that differ by a
    varying month length (a different estimate for the same panel); quarters and years would drift with the leap
    years, a spurious regressor that moved a yearly estimate's interval with the calendar position of the panel."""
    cols: list[np.ndarray] = []
    if time_kind == "date" and ordinal.size > 1:
        step = int(np.median(np.diff(ordinal)))
        if step == 1 and n_pre_days >= 14:
            dow = (ordinal + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
            cols.extend((dow == k).astype(float) for k in range(1, 7))
        per_year = round(365.25 / step)
        if n_pre_days >= 365 and per_year >= 2:
            if step >= 28:
                month = np.asarray(ordinal, np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
                angle = 2 * np.pi * (month % 12) / 12.0
            else:
                angle = 2 * np.pi * (ordinal % 365.25) / 365.25
            for k in range(1, min(2, per_year // 2) + 1):
                if 2 * k != per_year:  # at the Nyquist harmonic the sine is zero on every period
                    cols.append(np.sin(k * angle))
                cols.append(np.cos(k * angle))
    return np.column_stack(cols) if cols else np.zeros((ordinal.size, 0))
