"""Fixed duration buckets, so percentiles can be estimated from daily rollups merged over a range.

Exact percentiles are not mergeable across days; counts per bucket are. Bucket 0 holds durations
under 1 s; bucket k >= 1 holds [2^((k-1)/8), 2^(k/8)) seconds: eight buckets per doubling, so a
bucket's upper bound is 2^(1/8) ≈ 1.0905 times its lower one. An estimate places each order
statistic inside its bucket (by its rank there), so it lies in the same bucket as the exact
value: the estimate is within a factor 2^(1/8) of the exact percentile (under ±9.1%), or within
1 s below 1 s. docs/decisions.md records the choice.
"""

import math
from collections.abc import Mapping

STEPS_PER_DOUBLING = 8
LAST_BUCKET = 1 + STEPS_PER_DOUBLING * 31  # 2^31 s is 68 years: nothing lasts longer
RATIO = 2 ** (1 / STEPS_PER_DOUBLING)


def bucket_of(seconds: float) -> int:
    if seconds < 1:
        return 0
    return min(LAST_BUCKET, 1 + math.floor(STEPS_PER_DOUBLING * math.log2(seconds)))


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """[low, high) seconds of a bucket."""
    if bucket == 0:
        return 0.0, 1.0
    return 2 ** ((bucket - 1) / STEPS_PER_DOUBLING), 2 ** (bucket / STEPS_PER_DOUBLING)


def _order_statistic(cells: list[tuple[int, int]], rank: int) -> float:
    """The `rank`-th smallest value (0-based), spread evenly inside its bucket."""
    seen = 0
    for bucket, count in cells:
        if rank < seen + count:
            low, high = bucket_bounds(bucket)
            return low + (high - low) * (rank - seen + 0.5) / count
        seen += count
    raise ValueError("rank beyond the histogram")


def estimate_percentile(counts: Mapping[int, int], fraction: float) -> float | None:
    """PERCENTILE_CONT (linear interpolation between closest ranks) over a bucket histogram."""
    cells = sorted((bucket, count) for bucket, count in counts.items() if count)
    total = sum(count for _, count in cells)
    if not total:
        return None
    position = fraction * (total - 1)
    low, high = math.floor(position), math.ceil(position)
    low_value = _order_statistic(cells, low)
    high_value = _order_statistic(cells, high)
    return low_value + (high_value - low_value) * (position - low)
