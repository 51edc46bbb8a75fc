import io

import pyarrow as pa
import pyarrow.parquet as pq

from partita.storage.encoding import data_version, encode_parquet


def sample_table() -> pa.Table:
    return pa.table({"id": list(range(100)), "name": [f"n{i}" for i in range(100)]})


def test_same_table_encodes_to_identical_bytes() -> None:
    assert encode_parquet(sample_table()) == encode_parquet(sample_table())


def test_chunking_does_not_change_the_version() -> None:
    table = sample_table()
    chunked = pa.concat_tables([table.slice(0, 30), table.slice(30)])
    assert chunked.column("id").num_chunks == 2
    assert data_version(encode_parquet(chunked)) == data_version(encode_parquet(table))


def test_different_data_gives_a_different_version() -> None:
    changed = sample_table().set_column(0, "id", pa.array(range(1, 101)))
    assert data_version(encode_parquet(changed)) != data_version(encode_parquet(sample_table()))


def test_version_is_a_short_hex_digest() -> None:
    version = data_version(b"hello")
    assert len(version) == 16
    int(version, 16)


def test_encoded_bytes_are_snappy_parquet_that_reads_back() -> None:
    encoded = encode_parquet(sample_table())
    file = pq.ParquetFile(io.BytesIO(encoded))
    assert file.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert file.read().equals(sample_table())
