//! The CSV format of bulk changes: read from hostile files within fixed
//! bounds, and written (results, exports, the template) so that a
//! spreadsheet opens it safely and an export imports back unchanged.
//!
//! Columns: `email` (required), `first_name`, `last_name`, `license_type`,
//! `action` (`add`, `revoke` or `remove`; empty is `add`), `group`,
//! `employee_id`. Header names in any case and order; UTF-8 with or without
//! a byte-order mark; comma or semicolon, whichever the header line uses
//! (Excel writes semicolons where the decimal separator is a comma); quoted
//! fields; CRLF or LF.

use std::io::{BufRead, Read};

/// Largest file read: 100,000 rows of every column fit in about 15 MiB.
pub const MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Longest cell: longer than any email (254), name or license type.
pub const MAX_CELL: usize = 1_000;

/// The columns, in the order exports and the template write them.
pub const COLUMNS: [Column; 7] = [
    Column::Email,
    Column::FirstName,
    Column::LastName,
    Column::LicenseType,
    Column::Action,
    Column::Group,
    Column::EmployeeId,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Email,
    FirstName,
    LastName,
    LicenseType,
    Action,
    Group,
    EmployeeId,
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::LicenseType => "license_type",
            Self::Action => "action",
            Self::Group => "group",
            Self::EmployeeId => "employee_id",
        }
    }

    fn named(name: &str) -> Option<Self> {
        COLUMNS
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// What a row asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create or update the learner, and assign the license type if given.
    Add,
    /// Take back the license type given, or every license.
    Revoke,
    /// Revoke every license and deactivate the learner.
    Remove,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Revoke => "revoke",
            Self::Remove => "remove",
        }
    }
}

/// One data row as read: its cells by column, each trimmed, empty as `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The row's number as a spreadsheet shows it: the header is 1, the
    /// first data row 2 (a cell over several lines is still one row; the
    /// CSV reader skips blank lines, so a blank line is not counted).
    pub number: u64,
    /// The cells as they were in the file, for the result file.
    pub cells: Vec<String>,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub license_type: Option<String>,
    pub action: Action,
    pub group: Option<String>,
    pub employee_id: Option<String>,
}

/// A row that cannot be read; the others still can.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("row {number}: {reason}")]
pub struct RowError {
    pub number: u64,
    pub cells: Vec<String>,
    pub reason: String,
}

/// A file that cannot be read at all: nothing in it is applied.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MiB", MAX_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("this is not a CSV text file (it holds binary data)")]
    Binary,
    #[error("this is not UTF-8 text: save the file as \"CSV UTF-8\"")]
    NotUtf8,
    #[error("the header has no email column (the columns are {})", column_list())]
    NoEmailColumn,
    #[error("unknown column {0:?} (the columns are {list})", list = column_list())]
    UnknownColumn(String),
    #[error("column {0:?} appears twice in the header")]
    DuplicateColumn(String),
    #[error("the file could not be read: {0}")]
    Unreadable(String),
}

fn column_list() -> String {
    COLUMNS.map(Column::name).join(", ")
}

/// The rows of a CSV file, read one at a time: memory stays flat however
/// long the file is.
pub struct Reader<R: Read> {
    csv: csv::Reader<std::io::Chain<std::io::Cursor<Vec<u8>>, std::io::Take<R>>>,
    columns: Vec<Column>,
    record: csv::ByteRecord,
    /// Records read, the header included.
    records: u64,
}

impl<R: Read> std::fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Reader<R> {
    /// Reads the header; a file that is not CSV of these columns is refused
    /// here, before any row.
    pub fn new(input: R) -> Result<Self, FileError> {
        let mut input = std::io::BufReader::new(input.take(MAX_BYTES + 1));
        let head = input.fill_buf().map_err(unreadable)?.to_vec();
        let mut start = head.as_slice();
        start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
        if start.iter().all(u8::is_ascii_whitespace) {
            return Err(FileError::Empty);
        }
        // NUL never appears in text; most binary formats start with one soon.
        if start.contains(&0) {
            return Err(FileError::Binary);
        }
        let header_line = start.split(|&b| b == b'\n').next().unwrap_or_default();
        let delimiter = delimiter(header_line);
        // The peeked bytes, without the byte-order mark, then the rest.
        let buffered = start.to_vec();
        input.consume(head.len());
        let rest = input.into_inner();
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(std::io::Cursor::new(buffered).chain(rest));
        let mut header = csv::ByteRecord::new();
        if !csv.read_byte_record(&mut header).map_err(read_error)? {
            return Err(FileError::Empty);
        }
        let mut columns = Vec::new();
        for name in &header {
            let name = std::str::from_utf8(name).map_err(|_| FileError::NotUtf8)?;
            let column =
                Column::named(name).ok_or_else(|| FileError::UnknownColumn(name.to_owned()))?;
            if columns.contains(&column) {
                return Err(FileError::DuplicateColumn(name.to_owned()));
            }
            columns.push(column);
        }
        if !columns.contains(&Column::Email) {
            return Err(FileError::NoEmailColumn);
        }
        Ok(Self {
            csv,
            columns,
            record: csv::ByteRecord::new(),
            records: 1,
        })
    }

    /// The next row, `None` at the end. A file error mid-way (too large,
    /// unreadable) ends the reading.
    pub fn next_row(&mut self) -> Option<Result<Result<Row, RowError>, FileError>> {
        loop {
            match self.csv.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Err(e) => return Some(Err(read_error(e))),
                Ok(true) => self.records += 1,
            }
            if self.csv.position().byte() > MAX_BYTES {
                return Some(Err(FileError::TooLarge));
            }
            // Blank lines (a trailing one, Excel's empty rows) are no rows.
            if self.record.iter().all(|cell| cell.trim_ascii().is_empty()) {
                continue;
            }
            return Some(Ok(self.row(self.records)));
        }
    }

    fn row(&self, number: u64) -> Result<Row, RowError> {
        let cells: Vec<String> = self
            .record
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let refuse = |reason: String| RowError {
            number,
            cells: cells.clone(),
            reason,
        };
        if self.record.iter().any(|c| std::str::from_utf8(c).is_err()) {
            return Err(refuse("not UTF-8 text".to_owned()));
        }
        if cells.len() > self.columns.len() {
            return Err(refuse(format!(
                "{} cells, but the header has {} columns",
                cells.len(),
                self.columns.len()
            )));
        }
        if cells.iter().any(|c| c.len() > MAX_CELL) {
            return Err(refuse(format!("a cell is longer than {MAX_CELL} bytes")));
        }
        // Missing trailing cells are empty (spreadsheets drop them).
        let cell = |column: Column| {
            let at = self.columns.iter().position(|&c| c == column)?;
            let text = undefused(cells.get(at)?.trim());
            (!text.is_empty()).then(|| text.to_owned())
        };
        let Some(email) = cell(Column::Email) else {
            return Err(refuse("the email is empty".to_owned()));
        };
        let action = match cell(Column::Action) {
            None => Action::Add,
            Some(text) => match text.to_ascii_lowercase().as_str() {
                "add" => Action::Add,
                "revoke" => Action::Revoke,
                "remove" => Action::Remove,
                _ => {
                    return Err(refuse(format!(
                        "unknown action {text:?} (add, revoke or remove)"
                    )));
                }
            },
        };
        Ok(Row {
            number,
            email,
            first_name: cell(Column::FirstName),
            last_name: cell(Column::LastName),
            license_type: cell(Column::LicenseType),
            action,
            group: cell(Column::Group),
            employee_id: cell(Column::EmployeeId),
            cells,
        })
    }

    /// The header's columns, in the file's order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
}

/// Comma, unless the header line has more semicolons than commas.
fn delimiter(header_line: &[u8]) -> u8 {
    let count = |b: u8| header_line.iter().filter(|&&c| c == b).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

fn unreadable(e: std::io::Error) -> FileError {
    FileError::Unreadable(e.to_string())
}

fn read_error(e: csv::Error) -> FileError {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => FileError::NotUtf8,
        _ => FileError::Unreadable(e.to_string()),
    }
}

/// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet would run as a formula gets a leading apostrophe
/// (OWASP, "CSV Injection"), in every CSV Seatgate writes.
pub fn defused(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(FORMULA_START) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// The reverse of [`defused`], on import: an exported `'=x` reads as `=x`,
/// so export, edit, import changes nothing. Never evaluated either way.
fn undefused(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => text,
    }
}

/// Writes an import's results: the row's number, the file's columns, then
/// `outcome` and `reason`, one line per row (cells padded or cut to the
/// header's).
pub struct ResultWriter<W: std::io::Write> {
    csv: csv::Writer<W>,
    width: usize,
}

impl<W: std::io::Write> ResultWriter<W> {
    pub fn new(out: W) -> Self {
        Self {
            csv: csv::Writer::from_writer(out),
            width: 0,
        }
    }

    pub fn header(&mut self, columns: &[Column]) -> std::io::Result<()> {
        self.width = columns.len();
        let mut names = vec!["row"];
        names.extend(columns.iter().map(|c| c.name()));
        names.extend(["outcome", "reason"]);
        self.csv.write_record(names).map_err(std::io::Error::other)
    }

    pub fn row(
        &mut self,
        number: u64,
        cells: &[String],
        outcome: &str,
        reason: &str,
    ) -> std::io::Result<()> {
        let mut record: Vec<std::borrow::Cow<'_, str>> = vec![number.to_string().into()];
        record.extend((0..self.width).map(|i| cells.get(i).map_or("".into(), |c| defused(c))));
        record.extend([defused(outcome), defused(reason)]);
        self.csv
            .write_record(record.iter().map(|c| c.as_bytes()))
            .map_err(std::io::Error::other)
    }

    /// Flushes, and gives back the output.
    pub fn finish(self) -> std::io::Result<W> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}

/// Writes rows in the import format (an export).
pub struct RowWriter<W: std::io::Write> {
    csv: csv::Writer<W>,
}

impl<W: std::io::Write> RowWriter<W> {
    pub fn new(out: W) -> std::io::Result<Self> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(COLUMNS.map(Column::name))
            .map_err(std::io::Error::other)?;
        Ok(Self { csv })
    }

    /// One row: a value per column of [`COLUMNS`], in that order.
    pub fn row(&mut self, cells: [&str; COLUMNS.len()]) -> std::io::Result<()> {
        self.csv
            .write_record(cells.map(|c| defused(c).into_owned()))
            .map_err(std::io::Error::other)
    }

    pub fn finish(self) -> std::io::Result<W> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}

/// The template: the header and two example rows.
pub fn template() -> String {
    let mut out = COLUMNS.map(Column::name).join(",");
    out.push_str("\nann.smith@example.com,Ann,Smith,Learning,add,Sales,E1001\n");
    out.push_str("bob.jones@example.com,,,Learning,revoke,,\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8]) -> Result<Vec<Result<Row, RowError>>, FileError> {
        let mut reader = Reader::new(text)?;
        let mut all = Vec::new();
        while let Some(row) = reader.next_row() {
            all.push(row?);
        }
        Ok(all)
    }

    fn ok(text: &[u8]) -> Vec<Row> {
        rows(text)
            .expect("file")
            .into_iter()
            .map(|r| r.expect("row"))
            .collect()
    }

    #[test]
    fn headers_in_any_case_and_order_with_bom_semicolons_and_crlf() {
        assert!(
            ok(b"\xEF\xBB\xBFEMAIL\r\n").is_empty(),
            "a header alone has no rows"
        );
        let read =
            ok(b"\xEF\xBB\xBFAction;EMAIL;First_Name\r\nrevoke;Ann@Acme.example;\"Ann; Jr\"\r\n");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].number, 2);
        assert_eq!(read[0].email, "Ann@Acme.example");
        assert_eq!(read[0].action, Action::Revoke);
        assert_eq!(read[0].first_name.as_deref(), Some("Ann; Jr"));
        assert_eq!(read[0].last_name, None);
        let commas = ok(b"email,license_type\nbob@acme.example,Learning\n\n");
        assert_eq!(commas[0].license_type.as_deref(), Some("Learning"));
        assert_eq!(commas[0].action, Action::Add, "no action column is add");
    }

    #[test]
    fn quoted_fields_keep_newlines_and_rows_count_as_a_spreadsheet_does() {
        let read = ok(b"email,first_name\n\"a@x.example\",\"two\nlines\"\nb@x.example,B\n");
        assert_eq!(read[0].first_name.as_deref(), Some("two\nlines"));
        assert_eq!(read[1].number, 3, "the row, as a spreadsheet shows it");
    }

    #[test]
    fn whole_file_errors() {
        assert_eq!(rows(b"").unwrap_err(), FileError::Empty);
        assert_eq!(rows(b"\xEF\xBB\xBF \r\n").unwrap_err(), FileError::Empty);
        assert_eq!(rows(b"PK\x03\x04\x00\x00").unwrap_err(), FileError::Binary);
        assert_eq!(
            rows(b"first_name\nAnn\n").unwrap_err(),
            FileError::NoEmailColumn
        );
        assert_eq!(
            rows(b"email,department\n").unwrap_err(),
            FileError::UnknownColumn("department".into())
        );
        assert_eq!(
            rows(b"email,Email\n").unwrap_err(),
            FileError::DuplicateColumn("Email".into())
        );
        assert_eq!(rows(b"em\xFFail\n").unwrap_err(), FileError::NotUtf8);
        let huge = std::io::repeat(b'a').take(MAX_BYTES + 10);
        let mut reader = Reader::new(b"email\n".chain(huge)).expect("header");
        let mut last = None;
        while let Some(row) = reader.next_row() {
            last = Some(row);
            if matches!(last, Some(Err(_))) {
                break;
            }
        }
        assert!(matches!(last, Some(Err(FileError::TooLarge))), "{last:?}");
    }

    #[test]
    fn row_errors_name_the_row_and_leave_the_others() {
        let read = rows(
            b"email,action\nok@x.example,add\n,add\nx@x.example,delete\ny@x.example,add,extra\nz@x.example,REMOVE\n",
        )
        .expect("file");
        let reasons: Vec<String> = read
            .iter()
            .map(|r| match r {
                Ok(row) => format!("ok {}", row.number),
                Err(e) => e.to_string(),
            })
            .collect();
        assert_eq!(
            reasons,
            [
                "ok 2",
                "row 3: the email is empty",
                "row 4: unknown action \"delete\" (add, revoke or remove)",
                "row 5: 3 cells, but the header has 2 columns",
                "ok 6",
            ]
        );
        let long = format!("email\n{}@x.example\n", "a".repeat(MAX_CELL));
        assert!(rows(long.as_bytes()).unwrap()[0].is_err());
        let latin1 = rows(b"email,first_name\nj@x.example,J\xF6rg\n").unwrap();
        assert_eq!(latin1[0].as_ref().unwrap_err().reason, "not UTF-8 text");
    }

    #[test]
    fn formulas_are_defused_on_export_and_read_back_as_written() {
        assert_eq!(defused("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defused("@sum"), "'@sum");
        assert_eq!(defused("grace@acme.example"), "grace@acme.example");
        let read = ok(b"email,first_name,last_name\na@x.example,'=1+1,'O'Brien\n");
        assert_eq!(read[0].first_name.as_deref(), Some("=1+1"));
        assert_eq!(
            read[0].last_name.as_deref(),
            Some("'O'Brien"),
            "only before a formula"
        );
    }

    #[test]
    fn the_template_reads_back() {
        let read = ok(template().as_bytes());
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].action, Action::Revoke);
    }
}
