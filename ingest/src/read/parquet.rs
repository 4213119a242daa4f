//! Parquet returns, read a row group's worth of batches at a time; every column is turned to text
//! (dates as `2017-03-05`, numbers as written) so that it is validated like any other return.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::{CHUNK_ROWS, Chunks, RawTable};
use crate::{Error, Result};

/// Opens a Parquet file.
pub fn open(path: &Path) -> Result<Chunks> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let err = |e: parquet::errors::ParquetError| Error::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(err)?;
    let headers = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let reader = builder.with_batch_size(CHUNK_ROWS).build().map_err(err)?;
    Ok(Box::new(ParquetChunks {
        path: path.to_path_buf(),
        reader,
        headers,
        next_record: 1,
        started: false,
    }))
}

struct ParquetChunks {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    headers: Vec<String>,
    next_record: u64,
    started: bool,
}

impl ParquetChunks {
    fn text_of(&mut self, batch: &RecordBatch) -> Result<RawTable> {
        let columns = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::cast(c, &DataType::Utf8))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Parse {
                path: self.path.clone(),
                message: format!("a column cannot be read as text: {e}"),
            })?;
        let n = batch.num_rows() as u64;
        let rows = (self.next_record..self.next_record + n).collect();
        self.next_record += n;
        Ok(RawTable::new(self.headers.clone(), columns, rows))
    }
}

impl Iterator for ParquetChunks {
    type Item = Result<RawTable>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.next() {
            Some(Ok(batch)) => {
                self.started = true;
                Some(self.text_of(&batch))
            }
            Some(Err(e)) => Some(Err(Error::Parse {
                path: self.path.clone(),
                message: e.to_string(),
            })),
            None if !self.started => {
                self.started = true;
                let columns = self
                    .headers
                    .iter()
                    .map(|_| arrow::array::new_empty_array(&DataType::Utf8))
                    .collect();
                Some(Ok(RawTable::new(self.headers.clone(), columns, Vec::new())))
            }
            None => None,
        }
    }
}
