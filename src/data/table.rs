//! Tables from CSV files: a header row, one sample per row, a target column whose values are the
//! classes. Each feature column is numeric or categorical (detected from the training rows, or
//! named with `categorical`); numeric columns are standardized and categorical ones one-hot
//! encoded, both fitted on the training split only. The fitted [`TableCodec`] is stored with the
//! model, so evaluation and prediction encode new rows exactly as training did.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Affine, Dataset, Features, Splits};
use crate::error::{Error, Result};

/// What to do with a row that has a missing value (empty, `NA`, `NaN` or `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Refuse the file, naming the row and column.
    #[default]
    Error,
    /// Leave such rows out (and say how many).
    Drop,
    /// Fill with the training split's mean (numeric) or most frequent category.
    Mean,
}

/// Where a table comes from and how to read and split it.
#[derive(Debug, Clone)]
pub struct TableSource<'a> {
    pub path: &'a Path,
    pub target: &'a str,
    pub delimiter: u8,
    /// Feature columns to treat as categorical even if their values are numbers.
    pub categorical: &'a [String],
    /// Columns that are not features (ids, notes).
    pub ignore: &'a [String],
    pub missing: Missing,
    /// A separate test file; otherwise a stratified `test_split` of `path` is held out.
    pub test_data: Option<&'a Path>,
    pub test_split: f32,
    pub val_split: f32,
    /// Train on only the first N training rows.
    pub train_samples: Option<usize>,
    pub seed: u64,
    /// Standardize numeric columns (else they are used as they are).
    pub standardize: bool,
}

/// How a table's rows become the network's inputs and labels, fitted on the training split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableCodec {
    pub target: String,
    /// The target's distinct values, sorted (numerically when they all are numbers).
    pub classes: Vec<String>,
    /// The feature columns in file order, each one input or one block of inputs.
    pub columns: Vec<ColumnCodec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnCodec {
    pub name: String,
    #[serde(flatten)]
    pub kind: ColumnKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ColumnKind {
    /// One input: (x − mean) / scale; `fill` stands in for a missing value (`--missing mean`).
    Numeric { mean: f64, scale: f64, fill: Option<f64> },
    /// One input per category seen in training (one-hot); `fill` for a missing value.
    Categorical {
        categories: Vec<String>,
        fill: Option<String>,
    },
}

/// Values that stand for "missing".
fn is_missing(value: &str) -> bool {
    matches!(value.trim(), "" | "NA" | "NaN" | "nan" | "?")
}

/// A number a feature can hold: finite and within f32's range (inputs are f32 on both backends).
fn number(value: &str) -> Option<f64> {
    match cell(value) {
        Cell::Number(x) => Some(x),
        _ => None,
    }
}

/// What a feature value is, as far as numbers go.
enum Cell {
    Number(f64),
    /// Spelled as a number, but infinite or beyond f32's range (`1e400`, `1e300`, `inf`).
    OutOfRange,
    /// Starts like a number but is not one in decimal (`0x1A`, `1_000`, `3A`).
    NumberLike,
    Text,
}

/// A number as a feature value: in f32's range, or out of it.
fn number_cell(x: f64) -> Cell {
    match x.is_finite() && x.abs() <= f64::from(f32::MAX) {
        true => Cell::Number(x),
        false => Cell::OutOfRange,
    }
}

fn cell(value: &str) -> Cell {
    let value = value.trim();
    match value.parse::<f64>() {
        Ok(x) => number_cell(x),
        Err(_) => {
            let digits = value.trim_start_matches(['+', '-']).trim_start_matches('.');
            match digits.starts_with(|c: char| c.is_ascii_digit()) {
                true => Cell::NumberLike,
                false => Cell::Text,
            }
        }
    }
}

/// Why `value` cannot be a numeric feature.
fn not_a_number(value: &str) -> String {
    match cell(value) {
        Cell::OutOfRange => format!("`{value}` is beyond the range of a 32-bit float (±3.4e38)"),
        _ => format!(
            "`{value}` is not a decimal number (the column is numeric): fix it, or name the column in --categorical"
        ),
    }
}

fn table_error(path: &Path, line: Option<u64>, column: Option<&str>, detail: impl Into<String>) -> Error {
    Error::Table {
        path: path.to_path_buf(),
        line,
        column: column.map(str::to_string),
        detail: detail.into(),
    }
}

/// Columns of a table to carry through to its predictions, so they join back by key.
#[derive(Debug, Clone, Default)]
pub struct KeepColumns {
    pub names: Vec<String>,
    /// A named column missing from the file is an error (else it is left out).
    pub required: bool,
}

/// A table's rows encoded for prediction.
pub struct RowsToPredict {
    pub data: Dataset,
    /// Each row's physical line in the file (the header is line 1).
    pub lines: Vec<u64>,
    /// The kept columns: name and each row's value as written.
    pub kept: Vec<(String, Vec<String>)>,
}

/// A table as read: its header and its cells (a CSV file's records with their line numbers,
/// or a table given in memory column by column).
pub struct RawTable {
    pub path: PathBuf,
    pub headers: Vec<String>,
    /// Each header's position, so looking columns up by name stays linear in their number.
    index: HashMap<String, usize>,
    cells: Cells,
    /// Where each record's line starts (None: the table was given in memory, and its rows are
    /// named by their position).
    lines: Option<LineIndex>,
}

/// A table's cells.
enum Cells {
    /// A file's records, row by row, as text.
    Records(Vec<csv::StringRecord>),
    /// A table given in memory, column by column.
    Columns(Vec<Column>),
}

/// One column of a table given in memory (a DataFrame's).
pub enum Column {
    /// Numbers, NaN where missing: read as they are, never spelled and parsed back.
    Numbers(Vec<f64>),
    /// Text, empty (or `NA`, `?`…) where missing, read as a file's cells are.
    Texts(Vec<String>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Numbers(v) => v.len(),
            Column::Texts(v) => v.len(),
        }
    }
}

/// Where each physical line of a file starts, to name the line of a byte offset. Counted here,
/// not taken from the csv crate, whose line count differs between LF and CRLF files: a line
/// ends at LF, CRLF or a lone CR, and the header is line 1. A CRLF line's successor starts at
/// its LF, where the csv crate puts the position of the record after a CRLF.
struct LineIndex {
    starts: Vec<u64>,
}

impl LineIndex {
    fn of(text: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        for (i, &b) in text.iter().enumerate() {
            let ends_line = b == b'\r' || (b == b'\n' && (i == 0 || text[i - 1] != b'\r'));
            if ends_line {
                starts.push(i as u64 + 1);
            }
        }
        LineIndex { starts }
    }

    /// The 1-based line holding byte `offset`.
    fn line(&self, offset: u64) -> u64 {
        self.starts.partition_point(|&start| start <= offset) as u64
    }
}

impl RawTable {
    /// Reads `path`: a regular file of bounded size, UTF-8 (a BOM is skipped), CRLF or LF,
    /// quoted fields, every row as long as the header.
    pub fn read(path: &Path, delimiter: u8) -> Result<RawTable> {
        let refuse = |detail: String| table_error(path, None, None, detail);
        let bytes = crate::files::read_bounded(path, crate::files::MAX_DATA_FILE_BYTES, refuse)?;
        RawTable::from_bytes(path, &bytes, delimiter)
    }

    /// A table file's contents (`path` names it in errors; a page's picked file), read as
    /// [`RawTable::read`] reads the file.
    pub fn from_bytes(path: &Path, bytes: &[u8], delimiter: u8) -> Result<RawTable> {
        // Records hold the text once more, with per-field bounds: about twice the file.
        crate::memory::check_fits(
            "data",
            &format!("the table {}", path.display()),
            3 * bytes.len() as u128,
            crate::memory::available_bytes(),
        )?;
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let lines = LineIndex::of(body);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .from_reader(body);
        let csv_error = |e: csv::Error| {
            let line = e.position().map(|p| lines.line(p.byte()));
            let detail = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("has {len} fields, the header {expected_len}")
                }
                csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".into(),
                _ => e.to_string(),
            };
            table_error(path, line, None, detail)
        };
        let headers: Vec<String> = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(table_error(path, Some(1), None, "has no header row"));
        }
        let mut index = HashMap::with_capacity(headers.len());
        if let Some(dup) = headers
            .iter()
            .enumerate()
            .find_map(|(i, h)| index.insert(h.clone(), i).map(|_| h))
        {
            return Err(table_error(path, Some(1), Some(dup), "appears twice in the header"));
        }
        let records = reader
            .records()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(csv_error)?;
        if records.is_empty() {
            return Err(table_error(path, None, None, "has a header and no rows"));
        }
        Ok(RawTable {
            path: path.to_path_buf(),
            headers,
            index,
            cells: Cells::Records(records),
            lines: Some(lines),
        })
    }

    /// A table given in memory, column by column, named `origin` in errors, whose rows are
    /// named by their 0-based position.
    pub fn from_columns(origin: &str, headers: Vec<String>, columns: Vec<Column>) -> Result<RawTable> {
        let refuse = |detail: String| Error::Rows {
            origin: origin.into(),
            row: None,
            column: None,
            detail,
        };
        let rows = columns.first().map_or(0, Column::len);
        if headers.len() != columns.len() || columns.iter().any(|c| c.len() != rows) {
            return Err(refuse(format!(
                "{} column names for {} columns of {rows} rows (some of another length)",
                headers.len(),
                columns.len()
            )));
        }
        if rows == 0 {
            return Err(refuse("has no rows".into()));
        }
        let mut index = HashMap::with_capacity(headers.len());
        if let Some(dup) = headers
            .iter()
            .enumerate()
            .find_map(|(i, h)| index.insert(h.clone(), i).map(|_| h.clone()))
        {
            return Err(refuse(format!("column `{dup}` appears twice")));
        }
        Ok(RawTable {
            path: PathBuf::from(origin),
            headers,
            index,
            cells: Cells::Columns(columns),
            lines: None,
        })
    }

    pub fn len(&self) -> usize {
        match &self.cells {
            Cells::Records(records) => records.len(),
            Cells::Columns(columns) => columns.first().map_or(0, Column::len),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The physical line on which row `row`'s record starts (None for a table in memory).
    fn line(&self, row: usize) -> Option<u64> {
        let (Some(lines), Cells::Records(records)) = (&self.lines, &self.cells) else {
            return None;
        };
        records[row].position().map(|p| lines.line(p.byte()))
    }

    /// Row `row`'s value in `column` as text (a number in memory in its shortest exact
    /// spelling; empty where missing).
    fn value(&self, row: usize, column: usize) -> Cow<'_, str> {
        match &self.cells {
            Cells::Records(records) => Cow::Borrowed(records[row].get(column).unwrap_or("")),
            Cells::Columns(columns) => match &columns[column] {
                Column::Numbers(v) if v[row].is_nan() => Cow::Borrowed(""),
                Column::Numbers(v) => Cow::Owned(v[row].to_string()),
                Column::Texts(v) => Cow::Borrowed(&v[row]),
            },
        }
    }

    /// Whether row `row`'s value in `column` is missing.
    fn missing_at(&self, row: usize, column: usize) -> bool {
        match &self.cells {
            Cells::Columns(columns) => match &columns[column] {
                Column::Numbers(v) => v[row].is_nan(),
                Column::Texts(v) => is_missing(&v[row]),
            },
            Cells::Records(_) => is_missing(&self.value(row, column)),
        }
    }

    /// What row `row`'s (present) value in `column` is, as far as numbers go.
    fn cell_at(&self, row: usize, column: usize) -> Cell {
        match &self.cells {
            Cells::Columns(columns) => match &columns[column] {
                Column::Numbers(v) => number_cell(v[row]),
                Column::Texts(v) => cell(&v[row]),
            },
            Cells::Records(_) => cell(&self.value(row, column)),
        }
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.index.get(name).copied().ok_or_else(|| {
            table_error(
                &self.path,
                None,
                Some(name),
                format!("is not a column; the header has: {}", self.headers.join(", ")),
            )
        })
    }

    /// An error about row `row`'s value in `column`: its line in a file, its position in a
    /// table given in memory.
    fn error_at(&self, row: usize, column: usize, detail: impl Into<String>) -> Error {
        match self.lines {
            Some(_) => table_error(&self.path, self.line(row), Some(&self.headers[column]), detail),
            None => Error::Rows {
                origin: self.path.display().to_string(),
                row: Some(row),
                column: Some(self.headers[column].clone()),
                detail: detail.into(),
            },
        }
    }
}

/// Loads the table `source` describes: its splits (train, validation, test), encoded by
/// `codec` when given (a saved model's), else by a codec fitted on the training split.
pub fn load_table(source: &TableSource<'_>, codec: Option<&TableCodec>) -> Result<Splits> {
    load_raw_table(
        RawTable::read(source.path, source.delimiter)?,
        source,
        codec.map(Fitted::Codec),
        None,
    )
}

/// What a table is encoded by: a model's codec, or one fitted now on training rows whose
/// classes are given (all a model will know, although these rows may lack some).
#[derive(Clone, Copy)]
pub enum Fitted<'a> {
    Codec(&'a TableCodec),
    Classes(&'a [String]),
}

/// [`load_table`] of a table already read (`main`, in place of the file `source` names),
/// encoded as `fitted` says (by a codec fitted on its training rows when None); `weights`: each
/// row's weight in the training loss.
pub fn load_raw_table(
    main: RawTable,
    source: &TableSource<'_>,
    fitted: Option<Fitted<'_>>,
    weights: Option<&[f32]>,
) -> Result<Splits> {
    if let Some(weights) = weights.filter(|w| w.len() != main.len()) {
        return Err(table_error(
            &main.path,
            None,
            None,
            format!("{} sample weights for {} rows", weights.len(), main.len()),
        ));
    }
    let weights_of = |rows: &[usize]| weights.map(|w| rows.iter().map(|&r| w[r]).collect());
    let codec = match fitted {
        Some(Fitted::Codec(codec)) => Some(codec),
        _ => None,
    };
    let target = main.column(source.target)?;
    for name in source.categorical.iter().chain(source.ignore) {
        main.column(name)?;
    }
    let ignored: HashSet<&str> = source.ignore.iter().map(String::as_str).collect();
    let features: Vec<usize> = (0..main.headers.len())
        .filter(|&c| c != target && !ignored.contains(main.headers[c].as_str()))
        .collect();
    if features.is_empty() {
        return Err(table_error(
            &main.path,
            None,
            None,
            "has no feature columns besides the target",
        ));
    }
    let mut warnings = Vec::new();
    let used: Vec<usize> = std::iter::once(target).chain(features.iter().copied()).collect();
    let rows = kept_rows(&main, &used, source.missing, &mut warnings)?;
    let classes = match fitted {
        Some(Fitted::Codec(codec)) => codec.classes.clone(),
        Some(Fitted::Classes(classes)) => classes.to_vec(),
        None => class_names(&main, target, &rows)?,
    };
    let labels = labels_of(&main, target, &rows, &classes)?;
    // The test rows: another file's, a stratified share of this one's, or none.
    let (mut train, test, test_table) = match source.test_data {
        Some(path) => {
            let table = RawTable::read(path, source.delimiter)?;
            let test_target = table.column(source.target)?;
            let columns: Vec<usize> = features
                .iter()
                .map(|&c| table.column(&main.headers[c]))
                .collect::<Result<_>>()?;
            let test_used: Vec<usize> = std::iter::once(test_target).chain(columns.iter().copied()).collect();
            let test_rows = kept_rows(&table, &test_used, source.missing, &mut warnings)?;
            (rows, test_rows, Some(table))
        }
        None if source.test_split == 0.0 => (rows, Vec::new(), None),
        None => {
            let (train, test) = stratified_split(&rows, &labels, source.test_split, source.seed)?;
            (train, test, None)
        }
    };
    // `train` is in file order: the first N training rows.
    if let Some(n) = source.train_samples {
        train.truncate(n);
    }
    let val = hold_out(&mut train, source.val_split, source.seed)?;
    let codec = match codec {
        Some(codec) => codec.clone(),
        None => TableCodec::fit(&main, target, &features, &train, &classes, source)?,
    };
    let encode = |table: &RawTable, rows: &[usize]| codec.encode(table, rows, true);
    let test_set = match &test_table {
        Some(table) => Some(encode(table, &test)?),
        None if source.test_split == 0.0 => None,
        None => Some(encode(&main, &test)?),
    };
    let splits = Splits {
        name: main
            .path
            .file_stem()
            .map_or_else(|| "table".into(), |s| s.to_string_lossy().into_owned()),
        train: Dataset {
            weights: weights_of(&train),
            ..encode(&main, &train)?
        },
        val: val.as_deref().map(|rows| encode(&main, rows)).transpose()?,
        test: test_set,
        class_names: classes,
        warnings,
        table: Some(codec),
    };
    splits.check_not_empty()?;
    Ok(splits)
}

/// The rows to use: all, or (with `Missing::Drop`) those without a missing value in `used`
/// columns; `Missing::Error` refuses the first missing value, and `Missing::Mean` the first
/// missing target (a label cannot be filled in).
fn kept_rows(table: &RawTable, used: &[usize], missing: Missing, warnings: &mut Vec<String>) -> Result<Vec<usize>> {
    let target = used[0];
    let mut kept = Vec::with_capacity(table.len());
    // Per used column, the values --missing mean fills.
    let mut filled = vec![0usize; used.len()];
    for row in 0..table.len() {
        let gap = used.iter().copied().find(|&c| table.missing_at(row, c));
        match (gap, missing) {
            (None, _) => kept.push(row),
            (Some(_), Missing::Drop) => {}
            (Some(c), Missing::Mean) if c != target => {
                for (count, &column) in filled.iter_mut().zip(used) {
                    *count += usize::from(table.missing_at(row, column));
                }
                kept.push(row);
            }
            (Some(c), Missing::Mean) => {
                return Err(table.error_at(
                    row,
                    c,
                    "the target is missing (a label cannot be filled in: --missing drop)",
                ))
            }
            (Some(c), Missing::Error) => {
                return Err(table.error_at(
                    row,
                    c,
                    format!(
                        "missing value `{}`: pass --missing drop or --missing mean",
                        table.value(row, c)
                    ),
                ))
            }
        }
    }
    let dropped = table.len() - kept.len();
    if kept.is_empty() {
        return Err(table_error(
            &table.path,
            None,
            None,
            format!(
                "every one of its {dropped} rows has a missing value, so --missing drop leaves none: \
                 fill them with --missing mean, or --ignore the columns that are mostly missing"
            ),
        ));
    }
    if dropped > 0 {
        warnings.push(format!(
            "{}: dropped {dropped} of {} rows with missing values (--missing drop)",
            table.path.display(),
            table.len()
        ));
    }
    let per_column: Vec<String> = used
        .iter()
        .zip(&filled)
        .filter(|(_, &n)| n > 0)
        .map(|(&c, n)| format!("{} {n}", table.headers[c]))
        .collect();
    if !per_column.is_empty() {
        warnings.push(format!(
            "{}: filled {} missing values (--missing mean: a numeric column's training mean, a categorical \
             one's most frequent category): {}",
            table.path.display(),
            filled.iter().sum::<usize>(),
            per_column.join(", ")
        ));
    }
    Ok(kept)
}

/// The most classes a table's target may have: the output layer, the confusion matrix and the
/// per-class tables grow with it (a column of ids or measurements is not a target).
pub const MAX_CLASSES: usize = 1000;

/// The target's distinct values, sorted numerically when all are numbers, else as text; more
/// than [`MAX_CLASSES`] is refused as soon as it is seen.
fn class_names(table: &RawTable, target: usize, rows: &[usize]) -> Result<Vec<String>> {
    let mut distinct: BTreeSet<String> = BTreeSet::new();
    for &r in rows {
        distinct.insert(table.value(r, target).trim().to_string());
        if distinct.len() > MAX_CLASSES {
            return Err(table.error_at(
                r,
                target,
                format!(
                    "the target has more than {MAX_CLASSES} distinct values (classes) by this row: \
                     is it the class column? a measurement or an id cannot be a class"
                ),
            ));
        }
    }
    let mut names: Vec<String> = distinct.into_iter().collect();
    if names.iter().all(|n| number(n).is_some()) {
        names.sort_by(|a, b| number(a).unwrap_or(0.0).total_cmp(&number(b).unwrap_or(0.0)));
    }
    Ok(names)
}

fn labels_of(table: &RawTable, target: usize, rows: &[usize], classes: &[String]) -> Result<Vec<u32>> {
    let index: HashMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    rows.iter()
        .map(|&r| {
            let text = table.value(r, target);
            let value = text.trim();
            index.get(value).copied().ok_or_else(|| {
                table.error_at(
                    r,
                    target,
                    format!("class `{value}` is not one of the model's: {}", classes.join(", ")),
                )
            })
        })
        .collect()
}

/// Splits `rows` into (train, test) with `fraction` of each class in test, seeded; both keep
/// file order.
fn stratified_split(rows: &[usize], labels: &[u32], fraction: f32, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut by_class: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (&row, &label) in rows.iter().zip(labels) {
        by_class.entry(label).or_default().push(row);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7E57_5EED);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for members in by_class.values_mut() {
        members.shuffle(&mut rng);
        let n_test = (members.len() as f64 * f64::from(fraction)).round() as usize;
        test.extend_from_slice(&members[..n_test]);
        train.extend_from_slice(&members[n_test..]);
    }
    let largest = by_class.values().map(Vec::len).max().unwrap_or(0);
    if test.is_empty() && largest < 2 {
        return Err(Error::InvalidConfig {
            field: "test-split",
            detail: format!(
                "holding out a stratified test split needs two rows in some class, and each of the {} classes has one: \
                 give the test rows with --test-data",
                by_class.len()
            ),
        });
    }
    if test.is_empty() || train.is_empty() {
        return Err(Error::InvalidConfig {
            field: "test-split",
            detail: format!(
                "{fraction} of {} rows leaves {} test and {} training rows: both need at least one",
                rows.len(),
                test.len(),
                train.len()
            ),
        });
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok((train, test))
}

/// Moves a seeded `fraction` of the rows `train` (in file order) into a validation split,
/// chosen as [`Splits::split_validation`] chooses samples (none for 0).
fn hold_out(train: &mut Vec<usize>, fraction: f32, seed: u64) -> Result<Option<Vec<usize>>> {
    let Some((kept, val)) = super::validation_positions(train.len(), fraction, seed)? else {
        return Ok(None);
    };
    let val = val.iter().map(|&p| train[p]).collect();
    *train = kept.iter().map(|&p| train[p]).collect();
    Ok(Some(val))
}

impl TableCodec {
    /// One row given as its feature values in column order (`--point`), encoded as in
    /// training; the detail of what is wrong otherwise.
    pub fn encode_values(&self, values: &[String]) -> std::result::Result<Vec<f32>, String> {
        if values.len() != self.columns.len() {
            let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "{} values given; the model reads {} columns: {}",
                values.len(),
                names.len(),
                names.join(", ")
            ));
        }
        let mut out = Vec::new();
        for (column, value) in self.columns.iter().zip(values) {
            column
                .encode(value, &mut out)
                .map_err(|e| format!("column `{}`: {e}", column.name))?;
        }
        Ok(out)
    }

    /// Fits each feature column on the training rows `train` of `table`.
    fn fit(
        table: &RawTable,
        target: usize,
        features: &[usize],
        train: &[usize],
        classes: &[String],
        source: &TableSource<'_>,
    ) -> Result<TableCodec> {
        let categorical: HashSet<&str> = source.categorical.iter().map(String::as_str).collect();
        let columns = features
            .iter()
            .map(|&c| {
                let name = &table.headers[c];
                let present: Vec<usize> = train.iter().copied().filter(|&r| !table.missing_at(r, c)).collect();
                let texts: Vec<Cow<'_, str>> = present.iter().map(|&r| table.value(r, c)).collect();
                let values: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
                let kind = match categorical.contains(name.as_str()) {
                    true => categorical_codec(&values, source.missing),
                    false => match numeric_column(table, c, &present)? {
                        Some(numbers) => numeric_codec(&numbers, source),
                        None => categorical_codec(&values, source.missing),
                    },
                };
                Ok(ColumnCodec {
                    name: name.clone(),
                    kind,
                })
            })
            .collect::<Result<_>>()?;
        Ok(TableCodec {
            target: table.headers[target].clone(),
            classes: classes.to_vec(),
            columns,
        })
    }

    /// Inputs per row: one per numeric column, one per category of a categorical one.
    pub fn dim(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match &c.kind {
                ColumnKind::Numeric { .. } => 1,
                ColumnKind::Categorical { categories, .. } => categories.len(),
            })
            .sum()
    }

    /// Encodes rows `rows` of `table` (columns found by name), with their labels when
    /// `labelled` (else labels 0: rows to predict, whose target column, if any, is ignored).
    pub fn encode(&self, table: &RawTable, rows: &[usize], labelled: bool) -> Result<Dataset> {
        let columns: Vec<usize> = self
            .columns
            .iter()
            .map(|c| table.column(&c.name))
            .collect::<Result<_>>()?;
        let labels = if labelled {
            labels_of(table, table.column(&self.target)?, rows, &self.classes)?
        } else {
            vec![0; rows.len()]
        };
        let dim = self.dim();
        // One-hot blocks multiply: a column of many categories can declare far more than the file.
        crate::memory::check_fits(
            "data",
            &format!("{} rows of {} inputs from {}", rows.len(), dim, table.path.display()),
            4 * rows.len() as u128 * dim as u128,
            crate::memory::available_bytes(),
        )?;
        let mut features = Vec::with_capacity(rows.len() * dim);
        for &row in rows {
            for (codec, &c) in self.columns.iter().zip(&columns) {
                codec
                    .encode_at(table, row, c, &mut features)
                    .map_err(|detail| table.error_at(row, c, detail))?;
            }
        }
        Ok(Dataset {
            features: Features::F32(features),
            labels,
            dim,
            transform: Affine::IDENTITY,
            weights: None,
        })
    }

    /// Every row of `table` encoded for prediction (missing values filled as in training,
    /// else refused).
    pub fn encode_all(&self, table: &RawTable) -> Result<Dataset> {
        let rows: Vec<usize> = (0..table.len()).collect();
        self.encode(table, &rows, false)
    }

    /// Every row of the CSV file `path` encoded for prediction (missing values filled as in
    /// training, else refused), with each row's physical line and the values of the `keep`
    /// columns.
    pub fn encode_file(&self, path: &Path, delimiter: u8, keep: &KeepColumns) -> Result<RowsToPredict> {
        let table = RawTable::read(path, delimiter)?;
        let rows: Vec<usize> = (0..table.len()).collect();
        let data = self.encode(&table, &rows, false)?;
        let lines = rows.iter().map(|&r| table.line(r).unwrap_or(r as u64 + 2)).collect();
        let mut kept = Vec::new();
        for name in &keep.names {
            let column = match table.column(name) {
                Ok(column) => column,
                Err(_) if !keep.required => continue,
                Err(e) => return Err(e),
            };
            let values = rows.iter().map(|&r| table.value(r, column).to_string()).collect();
            kept.push((name.clone(), values));
        }
        Ok(RowsToPredict { data, lines, kept })
    }

    /// One line per column for the run's header: `name (numeric)` or `name (3 categories)`.
    pub fn describe(&self) -> String {
        self.columns
            .iter()
            .map(|c| match &c.kind {
                ColumnKind::Numeric { .. } => format!("{} (numeric)", c.name),
                ColumnKind::Categorical { categories, .. } => {
                    format!("{} ({} categories)", c.name, categories.len())
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Column `c`'s values in `rows` as numbers when it is a numeric column; `None` when it holds
/// text (a categorical column). A column of numbers with a stray value that is spelled like a
/// number but is not one (`0x1A`, `1_000`, `1e400`) is an error naming that value, not a
/// column of categories.
fn numeric_column(table: &RawTable, c: usize, rows: &[usize]) -> Result<Option<Vec<f64>>> {
    let mut numbers = Vec::with_capacity(rows.len());
    let mut stray = None;
    for &r in rows {
        match table.cell_at(r, c) {
            Cell::Number(x) => numbers.push(x),
            Cell::Text => return Ok(None),
            Cell::OutOfRange => return Err(table.error_at(r, c, not_a_number(&table.value(r, c)))),
            Cell::NumberLike => stray = stray.or(Some(r)),
        }
    }
    match (stray, numbers.is_empty()) {
        (_, true) => Ok(None),
        (None, false) => Ok(Some(numbers)),
        (Some(r), false) => Err(table.error_at(r, c, not_a_number(&table.value(r, c)))),
    }
}

fn numeric_codec(numbers: &[f64], source: &TableSource<'_>) -> ColumnKind {
    let n = numbers.len() as f64;
    let mean = numbers.iter().sum::<f64>() / n;
    let var = numbers.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    // A column constant in training carries no information; scale 1 keeps it finite (0).
    let std = if var > 0.0 { var.sqrt() } else { 1.0 };
    let fill = (source.missing == Missing::Mean).then_some(mean);
    if source.standardize {
        ColumnKind::Numeric { mean, scale: std, fill }
    } else {
        ColumnKind::Numeric {
            mean: 0.0,
            scale: 1.0,
            fill,
        }
    }
}

fn categorical_codec(values: &[&str], missing: Missing) -> ColumnKind {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v.trim()).or_default() += 1;
    }
    // Most frequent, the first in sorted order on ties.
    let most = counts
        .iter()
        .fold(None, |best: Option<(&str, usize)>, (&v, &n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((v, n)),
        })
        .map(|(v, _)| v.to_string());
    ColumnKind::Categorical {
        categories: counts.keys().map(|c| c.to_string()).collect(),
        fill: if missing == Missing::Mean { most } else { None },
    }
}

/// Training refuses or drops such rows before encoding; a model trained with `--missing mean`
/// fills them, others cannot.
fn missing_without_fill(value: &str) -> String {
    format!("missing value `{value}`: the model has no value to fill in (it was not trained with --missing mean)")
}

impl ColumnCodec {
    /// Appends the inputs of row `row`'s value in column `c` of `table` to `out`: a number
    /// given in memory as it is, any other value from its text; the error's detail otherwise.
    fn encode_at(&self, table: &RawTable, row: usize, c: usize, out: &mut Vec<f32>) -> std::result::Result<(), String> {
        let numbers = match &table.cells {
            Cells::Columns(columns) => match &columns[c] {
                Column::Numbers(v) => Some(v[row]),
                Column::Texts(_) => None,
            },
            Cells::Records(_) => None,
        };
        match (&self.kind, numbers) {
            (ColumnKind::Numeric { mean, scale, fill }, Some(x)) => {
                let x = match (x.is_nan(), fill) {
                    (true, Some(fill)) => *fill,
                    (true, None) => return Err(missing_without_fill("")),
                    (false, _) => match number_cell(x) {
                        Cell::Number(x) => x,
                        _ => return Err(not_a_number(&x.to_string())),
                    },
                };
                out.push(((x - mean) / scale) as f32);
                Ok(())
            }
            _ => self.encode(&table.value(row, c), out),
        }
    }

    /// Appends `value`'s inputs to `out`; the error's detail otherwise.
    fn encode(&self, value: &str, out: &mut Vec<f32>) -> std::result::Result<(), String> {
        let missing = is_missing(value);
        match &self.kind {
            ColumnKind::Numeric { mean, scale, fill } => {
                let x = match (missing, fill) {
                    (true, Some(fill)) => *fill,
                    (true, None) => return Err(missing_without_fill(value)),
                    (false, _) => number(value).ok_or_else(|| not_a_number(value))?,
                };
                out.push(((x - mean) / scale) as f32);
            }
            ColumnKind::Categorical { categories, fill } => {
                let value = match (missing, fill) {
                    (true, Some(fill)) => fill.as_str(),
                    (true, None) => return Err(missing_without_fill(value)),
                    (false, _) => value.trim(),
                };
                let hot = categories.iter().position(|c| c == value).ok_or_else(|| {
                    format!(
                        "category `{value}` was not seen in training (known: {})",
                        categories.join(", ")
                    )
                })?;
                out.extend((0..categories.len()).map(|i| if i == hot { 1.0 } else { 0.0 }));
            }
        }
        Ok(())
    }
}
