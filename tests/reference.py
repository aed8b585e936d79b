"""A slow, obvious pandas twin of the positioning metrics, written from DESIGN.md alone.

Loops over days, accounts and securities; nothing clever, so that it is easy to check by eye.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COMPONENTS = ["long_buy", "long_sell", "short_sale", "short_cover"]
TMT = {"Information Technology", "Communication Services"}


def _equity_positions(positions: pd.DataFrame, securities: pd.DataFrame) -> pd.DataFrame:
    options = set(securities.loc[securities.asset_type == "option", "security_id"])
    return positions[~positions.security_id.isin(options)]


def presence(positions: pd.DataFrame, equity: pd.DataFrame | None) -> set[tuple]:
    present = set()
    with_equity = set()
    if equity is not None:
        present |= set(zip(equity.date, equity.account_id))
        with_equity = set(equity.account_id)
    for day, account in zip(positions.date, positions.account_id):
        if account not in with_equity:
            present.add((day, account))
    return present


def daily_flows(positions, prices, equity, securities) -> pd.DataFrame:
    positions = _equity_positions(positions, securities)
    present = presence(positions, equity)
    dates = sorted({day for day, _ in present})
    holdings = {(d, a, s): q for d, a, s, q in zip(positions.date, positions.account_id,
                                                   positions.security_id, positions.quantity)}
    close = {(d, s): p for d, s, p in zip(prices.date, prices.security_id, prices.close)}
    rows = []
    for before, day in zip(dates, dates[1:]):
        accounts = {a for d, a in present if d == day} & {a for d, a in present if d == before}
        for account in sorted(accounts):
            securities_held = {s for (d, a, s) in holdings if a == account and d in (before, day)}
            for security in sorted(securities_held):
                old = holdings.get((before, account, security), 0.0)
                new = holdings.get((day, account, security), 0.0)
                if old == new or (day, security) not in close:
                    continue
                p = close[(day, security)]
                long_old, long_new = max(old, 0.0), max(new, 0.0)
                short_old, short_new = max(-old, 0.0), max(-new, 0.0)
                rows.append((day, account, security,
                             max(long_new - long_old, 0.0) * p, max(long_old - long_new, 0.0) * p,
                             max(short_new - short_old, 0.0) * p, max(short_old - short_new, 0.0) * p))
    return pd.DataFrame(rows, columns=["date", "account_id", "security_id", *COMPONENTS])


def group_of(by: str, securities: pd.DataFrame, accounts: pd.DataFrame) -> tuple[str, dict]:
    """Which id the grouping reads, and the label of each id."""
    if by == "book":
        return "account_id", {a: "all" for a in accounts.account_id}
    if by in ("strategy", "region"):
        return "account_id", dict(zip(accounts.account_id, accounts[by].fillna("Unclassified")))
    if by == "tmt":
        return "security_id", {s: ("TMT" if sector in TMT else "Non-TMT")
                               for s, sector in zip(securities.security_id, securities.sector)}
    if by == "asset_type":
        return "security_id", {s: ("macro products" if t in ("etf", "index_future") else "single stocks")
                               for s, t in zip(securities.security_id, securities.asset_type)}
    return "security_id", dict(zip(securities.security_id, securities[by].fillna("Unclassified")))


def period_ends(dates: list, freq: str) -> dict:
    """date -> the last data date of its period (weeks Monday-Friday, calendar months)."""
    frame = pd.DataFrame({"date": pd.to_datetime(sorted(dates))})
    if freq == "D":
        key = frame.date
    elif freq == "W":
        key = frame.date - pd.to_timedelta(frame.date.dt.weekday, unit="D")
    else:
        key = frame.date.dt.to_period(freq).dt.start_time
    frame["period_end"] = frame.groupby(key)["date"].transform("max")
    return dict(zip(frame.date, frame.period_end))


def flows(positions, prices, equity, securities, accounts, *, by: str, freq: str,
          trailing: int = 52, min_periods: int = 8) -> pd.DataFrame:
    """Flows per period_end and group, zero-filled, with net_flow_sd (no disclosure control)."""
    daily = daily_flows(positions, prices, equity, securities)
    dates = sorted({d for d, _ in presence(_equity_positions(positions, securities), equity)})
    ends = period_ends(dates, freq)
    key, labels = group_of(by, securities, accounts)
    daily["period_end"] = daily.date.map(ends)
    daily[by] = daily[key].map(labels)
    cells = daily.groupby(["period_end", by])[COMPONENTS].sum()
    groups = sorted(daily[by].unique())
    grid = pd.MultiIndex.from_product([sorted(set(ends.values())), groups], names=["period_end", by])
    cells = cells.reindex(grid, fill_value=0.0).reset_index()
    cells["net_flow"] = cells.long_buy - cells.long_sell - cells.short_sale + cells.short_cover
    cells["gross_traded"] = cells[COMPONENTS].sum(axis=1)
    sds = []
    for _, series in cells.groupby(by, sort=False):
        values = series.net_flow.to_numpy()
        for i in range(len(values)):
            window = values[max(0, i - trailing):i]
            sd = np.std(window, ddof=1) if len(window) >= min_periods else np.nan
            sds.append((series.index[i], values[i] / sd if len(window) >= min_periods and sd > 0 else np.nan))
    cells["net_flow_sd"] = pd.Series(dict(sds))
    return cells.sort_values(["period_end", by], ignore_index=True)


def exposure(positions, prices, equity, securities, accounts, *, by: str, freq: str) -> pd.DataFrame:
    """LMV, SMV, gross, net and leverage per period_end and group (no disclosure control)."""
    positions = _equity_positions(positions, securities)
    dates = sorted({d for d, _ in presence(positions, equity)})
    ends = set(period_ends(dates, freq).values())
    key, labels = group_of(by, securities, accounts)
    valued = positions[positions.date.isin(ends)].merge(prices, on=["date", "security_id"])
    valued["value"] = valued.quantity * valued.close
    valued[by] = valued[key].map(labels)
    rows = []
    for (day, group), cell in valued.groupby(["date", by]):
        lmv = cell.value[cell.value > 0].sum()
        smv = cell.value[cell.value < 0].sum()
        if by in ("strategy", "region"):
            members = [a for a, label in labels.items() if label == group]
            book_equity = equity[(equity.date == day) & equity.account_id.isin(members)].equity.sum()
        else:
            book_equity = equity[equity.date == day].equity.sum()
        if book_equity == 0:                       # no equity row that day: leverage unknown
            book_equity = np.nan
        rows.append((day, group, lmv, smv, lmv - smv, lmv + smv, book_equity,
                     100 * (lmv - smv) / book_equity, 100 * (lmv + smv) / book_equity))
    return pd.DataFrame(rows, columns=["period_end", by, "lmv", "smv", "gross", "net", "equity",
                                       "gross_leverage", "net_leverage"])


# --- retail identification (the twin of smartmoney.identify) ---

def _bjzz(cents_part: pd.Series) -> pd.Series:
    return pd.Series(np.select([(cents_part > 0) & (cents_part < 40), (cents_part > 60) & (cents_part < 100)],
                               [-1, 1], 0), index=cents_part.index)


def classify_prints(ticks: pd.DataFrame, quotes: pd.DataFrame | None, method: str) -> pd.DataFrame:
    """Off-exchange sub-penny prints with their side, by a row-by-row reading of DESIGN.md."""
    units = (ticks["price"] * 10_000).round().astype("int64")
    cents_part = units % 100
    candidates = ticks[(ticks["exchange"] == "D") & (cents_part != 0)].copy()
    candidates["cents_part"] = cents_part[candidates.index]
    if method == "bjzz":
        candidates["side"] = _bjzz(candidates["cents_part"])
        return candidates
    prints = candidates.reset_index().sort_values("ts", kind="stable")
    book = quotes.sort_values(["ts", "seq"], kind="stable")[["date", "symbol", "ts", "bid", "ask"]]
    joined = pd.merge_asof(prints, book, on="ts", by=["date", "symbol"], direction="backward",
                           allow_exact_matches=True).set_index("index").loc[candidates.index]
    sides = []
    for row in joined.itertuples():
        if pd.isna(row.bid):
            sides.append(0)
            continue
        bid, ask, price = round(row.bid * 10_000), round(row.ask * 10_000), round(row.price * 10_000)
        spread = ask - bid
        if spread == 100 and (price < bid or price > ask):
            sides.append(int(_bjzz(pd.Series([row.cents_part])).iloc[0]))
        elif price > bid + 0.6 * spread:
            sides.append(1)
        elif price < bid + 0.4 * spread:
            sides.append(-1)
        else:
            sides.append(0)
    candidates["side"] = sides
    return candidates


def identify(ticks: pd.DataFrame, quotes: pd.DataFrame | None, method: str) -> pd.DataFrame:
    """Retail buys and sells per (date, symbol), as smartmoney.identify.identify."""
    signed = classify_prints(ticks, quotes, method)
    units = (ticks["price"] * 10_000).round().astype("int64")
    counts = ticks.assign(off=ticks["exchange"] == "D",
                          sub=(ticks["exchange"] == "D") & (units % 100 != 0)).groupby(
        ["date", "symbol"]).agg(trades=("price", "size"), offexchange_trades=("off", "sum"),
                                subpenny_trades=("sub", "sum"))
    signed = signed.assign(usd=signed["price"] * signed["size"])
    out = counts.copy()
    for name, side in (("buy", 1), ("sell", -1)):
        mine = signed[signed["side"] == side].groupby(["date", "symbol"])
        out[f"retail_{name}_trades"] = mine.size().reindex(out.index, fill_value=0)
        out[f"retail_{name}_shares"] = mine["size"].sum().reindex(out.index, fill_value=0.0)
        out[f"retail_{name}_usd"] = mine["usd"].sum().reindex(out.index, fill_value=0.0)
    for unit in ("trades", "shares", "usd"):
        buy, sell = out[f"retail_buy_{unit}"], out[f"retail_sell_{unit}"]
        out[f"imbalance_{unit}"] = ((buy - sell) / (buy + sell)).where(buy + sell > 0)
    classified = out["retail_buy_trades"] + out["retail_sell_trades"]
    out["classified_share"] = (classified / out["offexchange_trades"]).where(out["offexchange_trades"] > 0)
    return out.reset_index()


# --- retail flows, divergence and the event study (twins of smartmoney.metrics.retail / event_study) ---

def _trailing_sd(values: np.ndarray, trailing: int = 52, min_periods: int = 8) -> np.ndarray:
    """Per position i: the sample stdev of the `trailing` values before i (NaN when too few)."""
    out = np.full(len(values), np.nan)
    for i in range(len(values)):
        window = values[max(0, i - trailing):i]
        window = window[~np.isnan(window)]
        if len(window) >= min_periods:
            out[i] = np.std(window, ddof=1)
    return out


def retail_flows(retail: pd.DataFrame, securities: pd.DataFrame, *, by: str, freq: str,
                 baskets: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Retail flows per period_end and group, zero-filled, with share_of_flow and sd units."""
    ends = period_ends(sorted(retail.date.unique()), freq)
    frame = retail.assign(period_end=retail.date.map(ends))
    market = frame.assign(gross=frame.retail_buy_usd + frame.retail_sell_usd).groupby("period_end")["gross"].sum()
    if by == "basket":
        members = pd.DataFrame([(s, b) for b, ids in baskets.items() for s in ids], columns=["security_id", by])
        frame = frame.merge(members, on="security_id")
    elif by == "book":
        frame[by] = "all"
    else:
        key, labels = group_of(by, securities, pd.DataFrame({"account_id": []}))
        frame[by] = frame[key].map(labels)
    cells = frame.groupby(["period_end", by])[["retail_buy_usd", "retail_sell_usd"]].sum()
    grid = pd.MultiIndex.from_product([sorted(set(ends.values())), sorted(frame[by].unique())],
                                      names=["period_end", by])
    cells = cells.reindex(grid, fill_value=0.0).reset_index()
    cells["retail_net"] = cells.retail_buy_usd - cells.retail_sell_usd
    cells["retail_gross"] = cells.retail_buy_usd + cells.retail_sell_usd
    cells["retail_imbalance"] = 100 * cells.retail_net / cells.retail_gross.replace(0, np.nan)
    cells["share_of_flow"] = 100 * cells.retail_gross / cells.period_end.map(market)
    cells["retail_net_sd"] = np.nan
    for _, series in cells.groupby(by):
        sd = _trailing_sd(series.retail_net.to_numpy())
        cells.loc[series.index, "retail_net_sd"] = np.where(sd > 0, series.retail_net / sd, np.nan)
    return cells.sort_values(["period_end", by], ignore_index=True)


def divergence(hf: pd.DataFrame, retail: pd.DataFrame, *, by: str, windows=(1, 4, 13)) -> pd.DataFrame:
    """Hedge funds vs retail per week, group and window, read from DESIGN.md row by row."""
    hf = hf.assign(hf_net=hf.net_flow.where(~hf.suppressed.astype(bool)))
    both = hf[["period_end", by, "hf_net"]].merge(retail[["period_end", by, "retail_net"]], on=["period_end", by])
    rows = []
    for group, series in both.sort_values("period_end").groupby(by):
        hf_values, retail_values = series.hf_net.to_numpy(float), series.retail_net.to_numpy(float)
        hf_sd, retail_sd = _trailing_sd(hf_values), _trailing_sd(retail_values)
        for i, day in enumerate(series.period_end):
            for weeks in windows:
                if i + 1 < weeks:
                    continue
                hf_sum = hf_values[i + 1 - weeks:i + 1].sum()          # NaN when any week is suppressed
                retail_sum = retail_values[i + 1 - weeks:i + 1].sum()
                scale = np.sqrt(weeks)
                hf_units = hf_sum / (hf_sd[i] * scale) if hf_sd[i] > 0 else np.nan
                retail_units = retail_sum / (retail_sd[i] * scale) if retail_sd[i] > 0 else np.nan
                opposed = (hf_units <= -1 and retail_units >= 1) or (hf_units >= 1 and retail_units <= -1)
                rows.append((day, group, weeks, hf_sum, retail_sum, hf_units, retail_units,
                             min(max(-hf_sum, 0), max(retail_sum, 0)) if not np.isnan(hf_sum) else np.nan,
                             min(max(hf_sum, 0), max(-retail_sum, 0)) if not np.isnan(hf_sum) else np.nan,
                             bool(opposed)))
    return pd.DataFrame(rows, columns=["period_end", by, "window", "hf_net", "retail_net", "hf_net_sd",
                                       "retail_net_sd", "swap_usd", "mirror_usd", "divergence"]
                        ).sort_values(["period_end", by, "window"], ignore_index=True)


def ntile(count: int, buckets: int) -> np.ndarray:
    """SQL NTILE(buckets) over `count` ordered rows, 1-based: the first count % buckets
    buckets hold one row more."""
    size, extra = divmod(count, buckets)
    labels = []
    for bucket in range(1, buckets + 1):
        labels += [bucket] * (size + (1 if bucket <= extra else 0))
    return np.array(labels[:count])


def event_study(divergence_frame: pd.DataFrame, prices: pd.DataFrame, securities: pd.DataFrame,
                horizons=(1, 4, 13)) -> pd.DataFrame:
    """Mean forward return, t-stat and hit rate per divergence decile and horizon."""
    weekly = divergence_frame[(divergence_frame.window == 1) & divergence_frame.hf_net_sd.notna()
                              & divergence_frame.retail_net_sd.notna()].copy()
    weekly["score"] = weekly.retail_net_sd - weekly.hf_net_sd
    weekly = weekly.sort_values(["period_end", "score"], kind="stable")
    weekly["decile"] = weekly.groupby("period_end")["score"].transform(lambda s: ntile(len(s), 10))
    closes = prices.merge(securities[["security_id", "ticker"]], on="security_id")
    ends = period_ends(sorted(prices.date.unique()), "W")
    closes = closes[closes.date.isin(set(ends.values()))].pivot(index="date", columns="ticker", values="close")
    rows = []
    for h in horizons:
        forward = 100 * (closes.shift(-h) / closes - 1)
        joined = weekly.assign(forward_return=[forward.at[d, t] if d in forward.index else np.nan
                                               for d, t in zip(weekly.period_end, weekly.ticker)]).dropna(
            subset=["forward_return"])
        for decile, cell in joined.groupby("decile"):
            r = cell.forward_return
            rows.append((h, decile, len(r), r.mean(), r.mean() / (r.std(ddof=1) / np.sqrt(len(r))),
                         100 * (r > 0).mean()))
    return pd.DataFrame(rows, columns=["horizon", "decile", "observations", "mean_return", "t_stat", "hit_rate"])


# ------------------------------------------------------------------------------ 13F analytics


def _quarter(day) -> int:
    day = pd.Timestamp(day)
    return day.year * 4 + (day.month - 1) // 3


def filer_holdings(positions, accounts, securities, prices, as_of=None) -> pd.DataFrame:
    """Each 13F filer's holdings per quarter, valued at the close on the quarter's last date, else
    at the price the filers' reported values imply (sum of values / sum of shares)."""
    filers = set(accounts.loc[accounts.strategy == "13f_filer", "account_id"])
    rows = _equity_positions(positions, securities)
    rows = rows[rows.account_id.isin(filers) & (rows.quantity > 0)]
    if as_of is not None:
        day = pd.Timestamp(as_of)
        rows = rows[(pd.to_datetime(rows.date) <= day) & (pd.to_datetime(rows.available_from) <= day)]
    rows = rows.assign(date=pd.to_datetime(rows.date), quarter=[_quarter(d) for d in rows.date])
    ends = rows.groupby("quarter")["date"].max().to_dict()
    close = {(pd.Timestamp(d), s): c for d, s, c in zip(prices.date, prices.security_id, prices.close)}
    value_sum, share_sum = {}, {}
    for q, s, shares, value in zip(rows.quarter, rows.security_id, rows.quantity, rows.reported_value):
        if not pd.isna(value):
            value_sum[q, s] = value_sum.get((q, s), 0.0) + value
            share_sum[q, s] = share_sum.get((q, s), 0.0) + shares
    out = []
    for r in rows.itertuples():
        price = close.get((ends[r.quarter], r.security_id))
        if price is None and (r.quarter, r.security_id) in value_sum:
            price = value_sum[r.quarter, r.security_id] / share_sum[r.quarter, r.security_id]
        out.append({"period_end": ends[r.quarter], "quarter": r.quarter, "account_id": r.account_id,
                    "security_id": r.security_id, "shares": r.quantity,
                    "price": np.nan if price is None else price,
                    "value": np.nan if price is None else r.quantity * price})
    return pd.DataFrame(out)


def filer_flows(positions, accounts, securities, prices, *, by: str, as_of=None) -> pd.DataFrame:
    """13F quarter-on-quarter flows per quarter and group, for filers with a filing in both
    quarters; holders and value over all filers of the quarter."""
    h = filer_holdings(positions, accounts, securities, prices, as_of)
    key, label = group_of(by, securities, accounts)
    close = {(pd.Timestamp(d), s): c for d, s, c in zip(prices.date, prices.security_id, prices.close)}
    ends = h.groupby("quarter")["period_end"].max().to_dict()
    price = {(q, s): p for q, s, p in zip(h.quarter, h.security_id, h.price)}
    shares = {(q, a, s): n for q, a, s, n in zip(h.quarter, h.account_id, h.security_id, h.shares)}
    value = {(q, a, s): v for q, a, s, v in zip(h.quarter, h.account_id, h.security_id, h.value)}
    filed = {(q, a) for q, a in zip(h.quarter, h.account_id)}
    groups_seen = sorted({label[s] for s in h.security_id}) if key == "security_id" else ["all"]
    rows = []
    for q in sorted(ends):
        both = {a for (qq, a) in filed if qq == q and (q - 1, a) in filed}
        for group in groups_seen:
            in_group = h[(h.quarter == q) & (h[key].map(label) == group)]
            row = {"period_end": ends[q], by: group, "holders": in_group.account_id.nunique(),
                   "value": in_group.value.sum()}
            if any(qq == q - 1 for (qq, _) in filed) and both:
                buy = sell = before_value = 0.0
                new = closed = unvalued = 0
                holders_now, holders_before, filers = set(), set(), set()
                pairs = {(a, s) for (qq, a, s) in shares if qq in (q, q - 1) and a in both}
                for a, s in pairs:
                    if label[s if key == "security_id" else a] != group:
                        continue
                    now, before = shares.get((q, a, s), 0.0), shares.get((q - 1, a, s), 0.0)
                    filers.add(a)
                    holders_now |= {a} if now > 0 else set()
                    holders_before |= {a} if before > 0 else set()
                    before_value += value.get((q - 1, a, s), 0.0)
                    p = price.get((q, s))
                    if p is None:
                        p = close.get((ends[q], s), price.get((q - 1, s)))
                    new += before == 0 < now
                    closed += now == 0 < before
                    if now != before and (p is None or np.isnan(p)):
                        unvalued += 1
                    elif now > before:
                        buy += (now - before) * p
                    else:
                        sell += (before - now) * p
                row.update(long_buy=buy, long_sell=sell, net_flow=buy - sell, gross_traded=buy + sell,
                           new_positions=new, closed_positions=closed,
                           holders_change=len(holders_now) - len(holders_before),
                           net_flow_pct_value=100 * (buy - sell) / before_value if before_value else np.nan,
                           filers=len(filers), unvalued=unvalued)
            rows.append(row)
    out = pd.DataFrame(rows)
    sd = []
    for _, group in out.groupby(by, sort=False):
        sd.append(pd.Series(_trailing_sd(group.net_flow.to_numpy(dtype=float), 12, 4), index=group.index))
    out["net_flow_sd"] = out.net_flow / pd.concat(sd)
    return out.sort_values(["period_end", by], ignore_index=True)


def concentration(positions, accounts, securities, prices, as_of=None, top: int = 10) -> pd.DataFrame:
    """The share of each filer's valued long book in its 10 largest holdings, per quarter."""
    h = filer_holdings(positions, accounts, securities, prices, as_of)
    rows = []
    for (end, account), book in h.groupby(["period_end", "account_id"]):
        valued = book.dropna(subset=["value"]).sort_values(["value", "security_id"], ascending=[False, True])
        total = valued.value.sum()
        rows.append({"period_end": end, "account_id": account, "positions": len(book),
                     "unvalued": int(book.value.isna().sum()), "long_value": total,
                     "top10_value": valued.value.head(top).sum(),
                     "top10_share": 100 * valued.value.head(top).sum() / total if total else np.nan})
    return pd.DataFrame(rows)


def vip(positions, accounts, securities, prices, as_of=None, top: int = 20) -> pd.DataFrame:
    """Per quarter, the securities most often among the filers' 10 largest holdings."""
    h = filer_holdings(positions, accounts, securities, prices, as_of).dropna(subset=["value"])
    ticker = dict(zip(securities.security_id, securities.ticker))
    counts, books = {}, {}
    for (q, _), book in h.groupby(["quarter", "account_id"]):
        books[q] = books.get(q, 0) + 1
        for s in book.sort_values(["value", "security_id"], ascending=[False, True]).security_id.head(10):
            counts[q, s] = counts.get((q, s), 0) + 1
    ends = h.groupby("quarter")["period_end"].max().to_dict()
    ranks = {}
    for q in books:
        funds = sorted(((n, s) for (qq, s), n in counts.items() if qq == q), reverse=True)
        for n, s in funds:
            ranks[q, s] = 1 + sum(1 for m, _ in funds if m > n)
    rows = []
    for (q, s), n in counts.items():
        if ranks[q, s] <= top:
            listed_before = q - 1 in books
            rows.append({"period_end": ends[q], "ticker": ticker[s], "funds": n, "of": books[q],
                         "share": 100 * n / books[q], "rank": ranks[q, s],
                         "funds_before": counts.get((q - 1, s), 0) if listed_before else np.nan,
                         "rank_before": ranks.get((q - 1, s), np.nan),
                         "new": (ranks.get((q - 1, s), top + 1) > top) if listed_before else None})
    return pd.DataFrame(rows).sort_values(["period_end", "rank", "ticker"], ignore_index=True)
