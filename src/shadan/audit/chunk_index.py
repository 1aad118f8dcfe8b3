"""A worker's check of a chunk's search index rows (search_index.py), in DuckDB (chunk_fields.py): the
rows of the chunk's events are exactly the distinct strings of each entry's JSON `resource_ids` list as
the database reads it (`first_index_difference`, the parent's check): an entry whose fields DuckDB may
read otherwise (`fields_sure`, chunk_fields.py) is never vouched for.

The usual event is settled by equal text: its list as DuckDB writes it is `index_list`, the text its
list would have if it were exactly the ids of its seq's index rows, in their order; as no id in the chunk
holds a quote or a backslash, equal text means the same strings in the same order. Every other event (no
`index_list`, a list spelled otherwise, repeated ids, no list at all, anything odd) takes the exact set
comparison, which a chunk's events partition by seq.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shadan.audit.chunk_fields import EntryCheck

# The index rows wrong for the chunk's events (`chunk_index`: rows of resource_id and seq, in seq order);
# rows of other seqs are not looked at.
_DIFFERENCES = """
WITH unsettled AS MATERIALIZED (
    SELECT seq, resource_ids FROM chunk_fields
    WHERE index_list IS NULL OR resource_ids IS DISTINCT FROM index_list
), expected AS (
    SELECT DISTINCT item ->> '$' AS resource_id, seq FROM (
        SELECT seq, unnest(json_extract(
            CASE WHEN json_type(try(json(resource_ids))) = 'ARRAY' THEN resource_ids ELSE '[]' END, '$[*]'
        )) AS item FROM unsettled
    ) WHERE json_type(item) = 'VARCHAR'
), stored AS (
    SELECT resource_id, seq FROM chunk_index WHERE seq IN (SELECT seq FROM unsettled)
)
SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM stored))
     + (SELECT count(*) FROM (SELECT * FROM stored EXCEPT SELECT * FROM expected))
     + (SELECT count(*) FROM chunk_fields WHERE NOT fields_sure)
"""


def index_check(events: pa.Table, index: pa.Table) -> EntryCheck | None:
    """The check that `index` (rows of resource_id and seq) holds exactly the search index rows of
    `events` (rows of seq and entry) for their seqs; None, failed already, if the index is not in seq
    order (the rows of a seq would not be found together)."""
    lists = _index_lists(events, index)
    if lists is None:
        return None
    return EntryCheck(_DIFFERENCES, tables={"chunk_index": index}, columns={"index_list": lists})


def _index_lists(events: pa.Table, index: pa.Table) -> pa.Array | None:
    """For each event, the JSON text of the list of its index rows' ids, in the rows' order ('[]' for
    none, '["a","b"]'); null throughout when an id holds a quote or a backslash, which JSON escapes: equal
    text would no longer mean equal ids. None if the index is not in seq order."""
    index_seqs = index.column("seq").to_numpy()
    if np.any(index_seqs[1:] < index_seqs[:-1]):
        return None
    ids = index.column("resource_id").combine_chunks()
    if _holds_any(ids, b'"\\'):
        return pa.nulls(events.num_rows, pa.string())
    seqs = events.column("seq").to_numpy()
    first = np.searchsorted(index_seqs, seqs, "left")
    counts = np.searchsorted(index_seqs, seqs, "right") - first
    offsets = np.concatenate(([0], np.cumsum(counts)))
    rows = np.arange(offsets[-1]) + np.repeat(first - offsets[:-1], counts)
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), ids.take(pa.array(rows)))
    texts = pc.binary_join_element_wise('["', pc.binary_join(lists, '","'), '"]', "")
    return pc.if_else(pa.array(counts > 0), texts, pa.scalar("[]"))


def _holds_any(texts: pa.Array, characters: bytes) -> bool:
    """Whether a byte of these ASCII characters is in the column's text. The whole data buffer is looked
    at (a slice's neighbours too), which can only make the answer yes where it could have been no."""
    data = texts.buffers()[2]
    if data is None:
        return False
    text = np.frombuffer(data, dtype=np.uint8)
    return any(bool((text == character).any()) for character in characters)
