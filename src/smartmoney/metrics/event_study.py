"""Does divergence matter? Forward returns and volatility by divergence decile.

Each week, every stock with both a hedge-fund and a retail net flow gets a divergence score:
retail_net_sd - hf_net_sd over that week (positive: hedge funds sold while retail bought).
Stocks are ranked into deciles within the week (10 = hedge funds selling to retail the most).
For each horizon h (1, 4, 13 weeks) the study takes the forward return from the week's last
close to the close h weeks later, and the forward realized volatility (the standard deviation
of daily log returns over those h weeks, annualized with sqrt(252), in %). Per decile and
horizon: observations, mean return (%), its t-statistic (mean / (sd / sqrt(n)); observations
overlap for h > 1, so read it as indicative), hit rate (% of positive returns), mean volatility.
"""

from __future__ import annotations

import ibis

from smartmoney.metrics.inputs import periods

HORIZONS = (1, 4, 13)
DECILES = 10


def event_study(divergence_by_ticker: ibis.Table, prices: ibis.Table, securities: ibis.Table,
                horizons=HORIZONS) -> ibis.Table:
    """Columns: horizon, decile, observations, mean_return, t_stat, hit_rate, mean_volatility."""
    weekly = divergence_by_ticker.filter((divergence_by_ticker.window == 1)
                                         & divergence_by_ticker.hf_net_sd.notnull()
                                         & divergence_by_ticker.retail_net_sd.notnull())
    weekly = weekly.select("period_end", "ticker", score=weekly.retail_net_sd - weekly.hf_net_sd)
    weekly = weekly.mutate(decile=(ibis.ntile(DECILES).over(group_by="period_end", order_by="score") + 1)
                           .cast("int64"))
    daily = prices.join(securities.select("security_id", "ticker"), "security_id").select(
        "date", "ticker", "close")
    daily = daily.mutate(log_return=(daily.close / daily.close.lag().over(
        group_by="ticker", order_by="date")).ln())
    calendar = periods(prices.select("date").distinct(), "W")
    by_week = daily.join(calendar, "date").group_by(["ticker", "period_end"]).aggregate(
        close=daily.close.argmax(daily.date),
        n=daily.log_return.count(), s1=daily.log_return.sum(), s2=(daily.log_return ** 2).sum())
    parts = []
    for h in horizons:
        ahead = ibis.window(group_by="ticker", order_by="period_end", rows=(1, h))
        forward = by_week.mutate(
            horizon=ibis.literal(h, "int64"),
            future_close=by_week.close.lead(h).over(group_by="ticker", order_by="period_end"),
            fn=by_week.n.sum().over(ahead), f1=by_week.s1.sum().over(ahead), f2=by_week.s2.sum().over(ahead))
        forward = forward.filter(forward.future_close.notnull()).select(
            "ticker", "period_end", "horizon",
            forward_return=100.0 * (forward.future_close / forward.close - 1.0),
            forward_volatility=ibis.ifelse(
                forward.fn > 1,
                100.0 * ((forward.f2 - forward.f1 * forward.f1 / forward.fn) / (forward.fn - 1)
                         ).clip(lower=0.0).sqrt() * (252 ** 0.5),
                ibis.null("float64")))
        parts.append(forward)
    outcomes = parts[0]
    for part in parts[1:]:
        outcomes = outcomes.union(part)
    joined = weekly.join(outcomes, ["ticker", "period_end"])
    stats = joined.group_by(["horizon", "decile"]).aggregate(
        observations=joined.count(),
        mean_return=joined.forward_return.mean(),
        _sd=joined.forward_return.std(),
        hit_rate=100.0 * (joined.forward_return > 0).cast("float64").mean(),
        mean_volatility=joined.forward_volatility.mean())
    return stats.mutate(
        t_stat=ibis.ifelse((stats._sd > 0) & (stats.observations > 1),
                           stats.mean_return / (stats._sd / stats.observations.cast("float64").sqrt()),
                           ibis.null("float64"))
    ).select("horizon", "decile", "observations", "mean_return", "t_stat", "hit_rate",
             "mean_volatility").order_by(["horizon", "decile"])
