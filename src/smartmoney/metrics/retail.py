"""Retail flows per period and group, and hedge funds vs retail (DESIGN.md, Retail, Divergence).

- `retail_flows`: retail_buy_usd, retail_sell_usd, retail_net (= buy - sell), retail_gross,
  retail_imbalance (net in % of the group's own gross), share_of_flow (the group's gross in %
  of all retail gross that period), sd units, z-scores and 1y/5y percentile ranks of the net.
  Groups: book, sector ... ticker, tmt, asset_type, and basket (baskets are data; a security can
  be in several). Retail data is aggregated by the vendor or the tape, never per account, so
  no disclosure rule applies to it.
- `divergence`: per group and window (1, 4, 13 weeks by default) ending at each week, the
  hedge funds' and retail's net flow over the window, each in sd units (the window sum over the
  weekly trailing stdev x sqrt(window)), swap_usd = min(max(-hf_net, 0), max(retail_net, 0))
  (hedge-fund selling retail absorbed) and its mirror, and `divergence` when the signs oppose
  and both are beyond 1 sd. Hedge-fund cells come from the published (disclosure-controlled)
  weekly flows: a window with any suppressed week has no hedge-fund value.
"""

from __future__ import annotations

import ibis

from smartmoney.metrics import groups
from smartmoney.metrics.inputs import periods
from smartmoney.metrics.stats import TRAILING, MIN_PERIODS, with_pct_ranks, with_sd_units

RETAIL_GROUPS = ("book", "basket", "sector", "industry_group", "industry", "sub_industry", "ticker",
                 "tmt", "asset_type")
WINDOWS = (1, 4, 13)
OUTPUT = ["retail_buy_usd", "retail_sell_usd", "retail_net", "retail_gross", "retail_imbalance",
          "share_of_flow", "retail_net_sd", "retail_net_z", "retail_net_pct_rank_1y",
          "retail_net_pct_rank_5y"]


def check(by: str) -> str:
    if by not in RETAIL_GROUPS:
        raise ValueError(f"unknown retail group {by!r}; choose one of {', '.join(RETAIL_GROUPS)} "
                         "(retail flows have no accounts, so no strategy or region)")
    return by


def retail_flows(inputs, *, by: str, freq: str, ranks: bool = True) -> ibis.Table:
    """Retail flows per period_end and group (see the module docstring for the columns; the
    percentile ranks only with ranks=True).

    Every period of the retail data has a row for every group seen (zero when none traded).
    """
    check(by)
    daily = inputs.retail_flows.select("date", "security_id", "retail_buy_usd", "retail_sell_usd")
    calendar = periods(daily.select("date").distinct(), freq)
    dated = daily.join(calendar, "date")
    totals = dated.group_by("period_end").aggregate(
        _market_gross=(dated.retail_buy_usd + dated.retail_sell_usd).sum())
    labelled = groups.with_group(dated, by, inputs.securities, inputs.accounts)
    cells = labelled.group_by(["period_end", by]).aggregate(
        retail_buy_usd=labelled.retail_buy_usd.sum(), retail_sell_usd=labelled.retail_sell_usd.sum())
    grid = calendar.select("period_end").distinct().cross_join(cells.select(by).distinct())
    cells = grid.left_join(cells, ["period_end", by]).drop("period_end_right", f"{by}_right")
    cells = cells.mutate(retail_buy_usd=cells.retail_buy_usd.fill_null(0.0),
                         retail_sell_usd=cells.retail_sell_usd.fill_null(0.0))
    cells = cells.mutate(retail_net=cells.retail_buy_usd - cells.retail_sell_usd,
                         retail_gross=cells.retail_buy_usd + cells.retail_sell_usd)
    cells = cells.join(totals, "period_end")
    cells = cells.mutate(
        retail_imbalance=100.0 * cells.retail_net / cells.retail_gross.nullif(0.0),
        share_of_flow=100.0 * cells.retail_gross / cells._market_gross.nullif(0.0),
    ).drop("_market_gross")
    # Kept once: the statistics below read the series several times (ranks join it to itself).
    cells = inputs.cached(("retail cells", by, freq), lambda: cells)
    cells = with_sd_units(cells, by, "retail_net", freq)
    if ranks:
        cells = with_pct_ranks(cells, by, ["retail_net"], freq)
    return cells.select("period_end", by, *[c for c in OUTPUT if c in cells.columns]).order_by(["period_end", by])


def divergence(hf: ibis.Table, retail: ibis.Table, *, by: str, windows=WINDOWS) -> ibis.Table:
    """Hedge funds vs retail per week, group and window (see the module docstring).

    `hf` is a published weekly flow table (net_flow, long_sell, short_sale, suppressed) and
    `retail` a weekly retail table, both grouped `by`. Columns: period_end, <by>, window,
    hf_net, retail_net, hf_net_sd, retail_net_sd, hf_gross_selling, swap_usd, mirror_usd,
    divergence, direction ("hf_sold_retail_bought", "hf_bought_retail_sold" or "").
    """
    hf = hf.select("period_end", by, hf_net=ibis.ifelse(hf.suppressed, ibis.null("float64"), hf.net_flow),
                   hf_selling=ibis.ifelse(hf.suppressed, ibis.null("float64"), hf.long_sell + hf.short_sale))
    both = hf.join(retail.select("period_end", by, "retail_net"), ["period_end", by])
    trailing = ibis.window(group_by=by, order_by="period_end", rows=(-TRAILING["W"], -1))
    both = both.mutate(_hf_sd=both.hf_net.std().over(trailing), _retail_sd=both.retail_net.std().over(trailing),
                       _known=both.hf_net.count().over(trailing))
    parts = []
    for weeks in windows:
        window = ibis.window(group_by=by, order_by="period_end", rows=(-(weeks - 1), 0))
        sums = both.mutate(
            window=ibis.literal(weeks, "int64"),
            _weeks=both.period_end.count().over(window),
            _hf_weeks=both.hf_net.count().over(window),
            _hf_sum=both.hf_net.sum().over(window),
            _hf_selling=both.hf_selling.sum().over(window),
            _retail_sum=both.retail_net.sum().over(window),
        )
        sums = sums.filter(sums._weeks == weeks)              # a window needs all its weeks
        complete = sums._hf_weeks == weeks
        scale = float(weeks) ** 0.5
        enough = sums._known >= MIN_PERIODS["W"]
        parts.append(sums.select(
            "period_end", by, "window",
            hf_net=ibis.ifelse(complete, sums._hf_sum, ibis.null("float64")),
            retail_net=sums._retail_sum,
            hf_net_sd=ibis.ifelse(complete & enough & (sums._hf_sd > 0),
                                  sums._hf_sum / (sums._hf_sd * scale), ibis.null("float64")),
            retail_net_sd=ibis.ifelse(enough & (sums._retail_sd > 0),
                                      sums._retail_sum / (sums._retail_sd * scale), ibis.null("float64")),
            hf_gross_selling=ibis.ifelse(complete, sums._hf_selling, ibis.null("float64")),
        ))
    table = parts[0]
    for part in parts[1:]:
        table = table.union(part)
    # Engines' GREATEST and LEAST skip nulls: an unknown hedge-fund value must stay unknown.
    unknown = table.hf_net.isnull()
    swap = ibis.ifelse(unknown, ibis.null("float64"),
                       ibis.least(ibis.greatest(-table.hf_net, 0.0), ibis.greatest(table.retail_net, 0.0)))
    mirror = ibis.ifelse(unknown, ibis.null("float64"),
                         ibis.least(ibis.greatest(table.hf_net, 0.0), ibis.greatest(-table.retail_net, 0.0)))
    opposed = ((table.hf_net_sd <= -1) & (table.retail_net_sd >= 1)) | (
        (table.hf_net_sd >= 1) & (table.retail_net_sd <= -1))
    return table.mutate(
        swap_usd=swap, mirror_usd=mirror,
        divergence=opposed.fill_null(False),
        direction=ibis.cases((opposed & (table.hf_net < 0), "hf_sold_retail_bought"),
                             (opposed & (table.hf_net > 0), "hf_bought_retail_sold"), else_=""),
    ).order_by(["period_end", by, "window"])


def swap_share(divergence_by_ticker: ibis.Table, hf_book: ibis.Table, windows=WINDOWS) -> ibis.Table:
    """Market-level swap share per week and window: the hedge-fund selling retail absorbed
    (swap_usd summed over securities) in % of the hedge funds' gross selling (long sales +
    short sales, whole book) over the window. Columns: period_end, window, swap_usd,
    hf_gross_selling, swap_share."""
    swaps = divergence_by_ticker.group_by(["period_end", "window"]).aggregate(
        swap_usd=divergence_by_ticker.swap_usd.sum())
    selling = hf_book.select("period_end", _selling=ibis.ifelse(
        hf_book.suppressed, ibis.null("float64"), hf_book.long_sell + hf_book.short_sale))
    parts = []
    for weeks in windows:
        window = ibis.window(order_by="period_end", rows=(-(weeks - 1), 0))
        parts.append(selling.select("period_end", window=ibis.literal(weeks, "int64"),
                                    hf_gross_selling=selling._selling.sum().over(window),
                                    _n=selling._selling.count().over(window)).filter(
            lambda t: t._n == weeks).drop("_n"))
    gross = parts[0]
    for part in parts[1:]:
        gross = gross.union(part)
    joined = swaps.join(gross, ["period_end", "window"])
    return joined.mutate(swap_share=100.0 * joined.swap_usd / joined.hf_gross_selling.nullif(0.0)
                         ).order_by(["period_end", "window"])


def crowding(inputs, day) -> ibis.Table:
    """Per security on `day`: holders (accounts long it) in % of the accounts present.

    A security held long by fewer than `min_holders` accounts has no crowding figure (the
    count would single out a handful of funds); the caller passes its disclosure k.
    """
    positions = inputs.positions.filter(inputs.positions.date == day)
    present = inputs.presence().filter(lambda t: t.date == day).count()
    holders = positions.filter(positions.quantity > 0).group_by("security_id").aggregate(
        holders=positions.account_id.nunique())
    return holders.mutate(hf_crowding=100.0 * holders.holders / present)


def watch_list(divergence_by_ticker: ibis.Table, retail_by_ticker: ibis.Table, crowded: ibis.Table,
               securities: ibis.Table, *, window: int, top: int, min_holders: int) -> ibis.Table:
    """The fragility watch list at the last week: the stocks hedge funds sold most while retail
    bought most over `window` weeks (by swap_usd), with the hedge funds' crowding and the
    retail concentration (the stock's share of all retail gross flow over the window, %).
    """
    last = divergence_by_ticker.period_end.max()
    chosen = divergence_by_ticker.filter((divergence_by_ticker.window == window)
                                         & (divergence_by_ticker.period_end == last)
                                         & (divergence_by_ticker.hf_net < 0)
                                         & (divergence_by_ticker.retail_net > 0))
    rolling = ibis.window(group_by="ticker", order_by="period_end", rows=(-(window - 1), 0))
    gross = retail_by_ticker.mutate(_gross=retail_by_ticker.retail_gross.sum().over(rolling))
    gross = gross.filter(gross.period_end == gross.period_end.max())
    gross = gross.mutate(retail_concentration=100.0 * gross._gross / gross._gross.sum().over())
    labels = securities.select("security_id", "ticker", "sector")
    crowd = crowded.join(labels, "security_id").select(
        "ticker", "holders", hf_crowding=ibis.ifelse(crowded.holders >= min_holders, crowded.hf_crowding,
                                                     ibis.null("float64")))
    listed = (chosen.join(labels.select("ticker", "sector"), "ticker")
              .join(gross.select("ticker", "retail_concentration"), "ticker")
              .left_join(crowd, "ticker"))
    return listed.select("period_end", "window", "ticker", "sector", "hf_net", "retail_net", "swap_usd",
                         "hf_net_sd", "retail_net_sd", "hf_crowding", "retail_concentration"
                         ).order_by([ibis.desc("swap_usd"), "ticker"]).limit(top)
