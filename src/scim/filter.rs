//! SCIM filters (RFC 7644, 3.4.2.2) and PATCH paths (3.5.2), parsed from
//! hostile text within fixed bounds, and evaluated against a resource's JSON
//! representation (so the enterprise extension and multi-valued attributes
//! need no code of their own).
//!
//! Attribute names and operators are case-insensitive; string comparisons
//! are too, except for `id` and `externalId` (RFC 7643, 3.1: caseExact).

use serde_json::Value;

/// Longest filter or path we parse; IdPs send a few dozen characters.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses, brackets and `not`: bounds the recursion.
const MAX_DEPTH: usize = 16;
/// Most comparisons in one filter: bounds the evaluation per resource.
const MAX_TERMS: usize = 64;

/// `[schema URN ":"] name ["." sub]`, names as sent (compared in any case).
#[derive(Clone, Debug, PartialEq)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    fn parse(text: &str) -> Option<Self> {
        // `get`, not indexing: byte 4 may fall inside a multi-byte character.
        let (schema, rest) = if text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        {
            let (schema, rest) = text.rsplit_once(':')?;
            // `urn:...:enterprise:2.0:User` names the extension itself (its
            // resource name follows the version): the whole object, which
            // resources keep under that URN.
            let version = schema.rsplit(':').next().unwrap_or_default();
            if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return Some(Self {
                    schema: None,
                    name: text.to_owned(),
                    sub: None,
                });
            }
            (Some(schema.to_owned()), rest)
        } else {
            (None, text)
        };
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        let valid = |s: &str| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        (valid(name) && sub.is_none_or(valid)).then(|| Self {
            schema,
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }

    /// Whether this is the attribute `name` (of the core schema), any case.
    pub fn is(&self, name: &str) -> bool {
        self.schema.is_none() && self.sub.is_none() && self.name.eq_ignore_ascii_case(name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: some element of `attr` matches the inner filter.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

/// A PATCH target: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter (`.value` in `emails[...].value`).
    pub sub: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct Invalid(pub String);

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Number(serde_json::Number),
    Open,
    Close,
    BracketOpen,
    BracketClose,
    /// `.` right after `]`, in PATCH paths.
    Dot,
}

fn tokenize(text: &str) -> Result<Vec<Token>, Invalid> {
    if text.len() > MAX_LEN {
        return Err(Invalid(format!("longer than {MAX_LEN} characters")));
    }
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::BracketOpen,
                    _ => Token::BracketClose,
                });
            }
            '.' if tokens.last() == Some(&Token::BracketClose) => {
                chars.next();
                tokens.push(Token::Dot);
            }
            '"' => {
                // A JSON string: let serde_json read it, escapes and all.
                chars.next();
                let mut escaped = false;
                let end = loop {
                    match chars.next() {
                        None => return Err(Invalid("a string is not closed".into())),
                        Some((_, '\\')) if !escaped => escaped = true,
                        Some((i, '"')) if !escaped => break i,
                        Some(_) => escaped = false,
                    }
                };
                let value: String = serde_json::from_str(&text[start..=end])
                    .map_err(|_| Invalid(format!("bad string {}", &text[start..=end])))?;
                tokens.push(Token::Str(value));
            }
            _ => {
                let mut end = start;
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                let word = &text[start..end];
                if word.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
                    let number = serde_json::from_str::<serde_json::Number>(word)
                        .map_err(|_| Invalid(format!("{word:?} is not a number")))?;
                    tokens.push(Token::Number(number));
                } else {
                    tokens.push(Token::Word(word.to_owned()));
                }
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    terms: usize,
}

impl Parser {
    fn new(text: &str) -> Result<Self, Invalid> {
        Ok(Self {
            tokens: tokenize(text)?,
            at: 0,
            depth: 0,
            terms: 0,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn deeper(&mut self) -> Result<(), Invalid> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Invalid(format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    /// or-expression: the loosest binding (RFC 7644: not > and > or).
    fn or(&mut self) -> Result<Filter, Invalid> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, Invalid> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, Invalid> {
        if self.keyword("not") {
            self.next();
            self.deeper()?;
            if self.next() != Some(Token::Open) {
                return Err(Invalid("\"not\" must be followed by \"(\"".into()));
            }
            let inner = self.or()?;
            self.close(Token::Close, ")")?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            self.deeper()?;
            let inner = self.or()?;
            self.close(Token::Close, ")")?;
            self.depth -= 1;
            return Ok(inner);
        }
        self.attribute_expression()
    }

    fn close(&mut self, expected: Token, shown: &str) -> Result<(), Invalid> {
        if self.next() == Some(expected) {
            Ok(())
        } else {
            Err(Invalid(format!("expected {shown:?}")))
        }
    }

    fn attr_path(&mut self) -> Result<AttrPath, Invalid> {
        match self.next() {
            Some(Token::Word(word)) => AttrPath::parse(&word)
                .ok_or_else(|| Invalid(format!("{word:?} is not an attribute name"))),
            other => Err(Invalid(format!(
                "expected an attribute name, found {other:?}"
            ))),
        }
    }

    fn attribute_expression(&mut self) -> Result<Filter, Invalid> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(Invalid(format!("more than {MAX_TERMS} comparisons")));
        }
        let path = self.attr_path()?;
        if self.peek() == Some(&Token::BracketOpen) {
            self.next();
            self.deeper()?;
            let inner = self.or()?;
            self.close(Token::BracketClose, "]")?;
            self.depth -= 1;
            // Entra looks learners up by `emails[type eq "work"].value eq "..."`
            // (Microsoft's answer on Q&A 923479; RFC 7644's grammar ends a
            // value path at "]"): the sub-attribute of the same element.
            let inner = if self.peek() == Some(&Token::Dot) {
                self.next();
                let sub = self.attr_path()?;
                Filter::And(Box::new(inner), Box::new(self.comparison(sub)?))
            } else {
                inner
            };
            return Ok(Filter::ValuePath {
                attr: path,
                filter: Box::new(inner),
            });
        }
        self.comparison(path)
    }

    /// The operator and value after `path`.
    fn comparison(&mut self, path: AttrPath) -> Result<Filter, Invalid> {
        let op = match self.next() {
            Some(Token::Word(op)) => op.to_ascii_lowercase(),
            _ => return Err(Invalid("expected an operator after the attribute".into())),
        };
        let op = match op.as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            other => return Err(Invalid(format!("{other:?} is not an operator"))),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Number(n)) => Value::Number(n),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Value::Bool(true),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Value::Bool(false),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => Value::Null,
            other => return Err(Invalid(format!("expected a value, found {other:?}"))),
        };
        Ok(Filter::Compare { path, op, value })
    }

    fn finish<T>(&self, parsed: T) -> Result<T, Invalid> {
        match self.peek() {
            None => Ok(parsed),
            Some(extra) => Err(Invalid(format!("unexpected {extra:?}"))),
        }
    }
}

impl std::str::FromStr for Filter {
    type Err = Invalid;

    fn from_str(text: &str) -> Result<Self, Invalid> {
        let mut parser = Parser::new(text)?;
        let filter = parser.or()?;
        parser.finish(filter)
    }
}

impl std::str::FromStr for PatchPath {
    type Err = Invalid;

    fn from_str(text: &str) -> Result<Self, Invalid> {
        let mut parser = Parser::new(text)?;
        let attr = parser.attr_path()?;
        let mut path = PatchPath {
            attr,
            filter: None,
            sub: None,
        };
        if parser.peek() == Some(&Token::BracketOpen) {
            parser.next();
            parser.deeper()?;
            path.filter = Some(parser.or()?);
            parser.close(Token::BracketClose, "]")?;
            if parser.peek() == Some(&Token::Dot) {
                parser.next();
                match parser.next() {
                    Some(Token::Word(sub)) if AttrPath::parse(&sub).is_some() => {
                        path.sub = Some(sub)
                    }
                    _ => return Err(Invalid("expected a sub-attribute after \"].\"".into())),
                }
            }
        }
        parser.finish(path)
    }
}

/// The member of `object` named `name`, in any case.
pub fn member<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The values `path` names in `resource`: several for a multi-valued
/// attribute; the `value` sub-attribute of complex elements when no
/// sub-attribute is named.
fn resolve<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    elements(resource, path)
        .into_iter()
        .filter_map(|element| match (&path.sub, element) {
            (Some(sub), _) => member(element, sub),
            (None, Value::Object(_)) => member(element, "value"),
            (None, _) => Some(element),
        })
        .collect()
}

/// `id` and `externalId` are case-exact (RFC 7643, 3.1), with or without
/// the core schema's URN before them (a prefix names the attribute, it
/// does not change it).
fn case_exact(path: &AttrPath) -> bool {
    let core = path
        .schema
        .as_deref()
        .is_none_or(|schema| schema.to_ascii_lowercase().contains(":core:"));
    core && path.sub.is_none()
        && (path.name.eq_ignore_ascii_case("id") || path.name.eq_ignore_ascii_case("externalId"))
}

fn compare(found: &Value, op: CompareOp, wanted: &Value, exact: bool) -> bool {
    use std::cmp::Ordering;
    let fold = |s: &str| {
        if exact {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    let ordering = match (found, wanted) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = (fold(a), fold(b));
            match op {
                CompareOp::Co => return a.contains(&b),
                CompareOp::Sw => return a.starts_with(&b),
                CompareOp::Ew => return a.ends_with(&b),
                _ => a.cmp(&b),
            }
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => return false,
        },
        (Value::Bool(a), Value::Bool(b)) => match op {
            CompareOp::Eq => return a == b,
            CompareOp::Ne => return a != b,
            _ => return false,
        },
        _ => return op == CompareOp::Ne,
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

impl Filter {
    /// Whether `resource` (a SCIM resource as JSON) matches.
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::Compare {
                path,
                op,
                value: Value::Null,
            } => {
                // `eq null` asks for absence (RFC 7644, 3.4.2.2: null is "no value").
                let any = resolve(resource, path).into_iter().any(present);
                match op {
                    CompareOp::Eq => !any,
                    CompareOp::Ne => any,
                    _ => false,
                }
            }
            Filter::Compare { path, op, value } => {
                let found = resolve(resource, path);
                let exact = case_exact(path);
                if *op == CompareOp::Ne {
                    // "ne" holds when no value equals (and when there is none).
                    return !found
                        .iter()
                        .any(|v| compare(v, CompareOp::Eq, value, exact));
                }
                found.iter().any(|v| compare(v, *op, value, exact))
            }
            Filter::Present(path) => resolve(resource, path).into_iter().any(present),
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(inner) => !inner.matches(resource),
            Filter::ValuePath { attr, filter } => elements(resource, attr)
                .iter()
                .any(|element| filter.matches(element)),
        }
    }

    /// Whether the filter looks at the top-level attribute `name` (any case).
    pub fn names(&self, name: &str) -> bool {
        match self {
            Filter::Compare { path, .. } | Filter::Present(path) => {
                path.name.eq_ignore_ascii_case(name)
            }
            Filter::ValuePath { attr, .. } => attr.name.eq_ignore_ascii_case(name),
            Filter::And(a, b) | Filter::Or(a, b) => a.names(name) || b.names(name),
            Filter::Not(a) => a.names(name),
        }
    }

    /// `attr eq "value"` on a string: what IdPs look learners up by, served by an index.
    pub fn equality(&self) -> Option<(&AttrPath, &str)> {
        match self {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: Value::String(value),
            } => Some((path, value)),
            _ => None,
        }
    }
}

/// The elements of a multi-valued attribute (or the one value of a single
/// one); the core schema's attributes are at the top, an extension's under
/// its URN. `attr`'s sub-attribute is for the caller.
fn elements<'a>(resource: &'a Value, attr: &AttrPath) -> Vec<&'a Value> {
    let container = match &attr.schema {
        Some(schema) if !schema.to_ascii_lowercase().contains(":core:") => member(resource, schema),
        _ => Some(resource),
    };
    match container.and_then(|c| member(c, &attr.name)) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entra_email_lookup_matches_the_element_it_names() {
        let filter: Filter = r#"emails[type eq "work"].value eq "ANN@acme.example""#
            .parse()
            .expect("Entra's form parses");
        assert!(filter.matches(&user()));
        let home: Filter = r#"emails[type eq "work"].value eq "ann@home.example""#
            .parse()
            .unwrap();
        assert!(
            !home.matches(&user()),
            "the home address is not the work one"
        );
        assert!(
            r#"emails[type eq "work"].value"#.parse::<Filter>().is_err(),
            "a sub-attribute needs a comparison"
        );
    }

    fn user() -> Value {
        json!({
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "Ann-7",
            "userName": "Ann@Acme.example",
            "active": false,
            "name": {"givenName": "Ann", "familyName": "Smith"},
            "emails": [
                {"value": "ann@acme.example", "type": "work", "primary": true},
                {"value": "ann@home.example", "type": "home"}
            ],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Sales", "employeeNumber": "701984"
            },
            "meta": {"lastModified": "2026-12-01T10:00:00Z"}
        })
    }

    fn matches(filter: &str) -> bool {
        filter
            .parse::<Filter>()
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(&user())
    }

    #[test]
    fn operators_and_names_in_any_case() {
        for yes in [
            r#"userName eq "ann@acme.example""#,
            r#"USERNAME EQ "ANN@ACME.EXAMPLE""#,
            r#"userName ne "bob@acme.example""#,
            r#"userName co "acme""#,
            r#"userName sw "ann""#,
            r#"userName ew ".example""#,
            r#"name.familyName eq "smith""#,
            r#"meta.lastModified gt "2026-11-30T00:00:00Z""#,
            r#"meta.lastModified le "2026-12-01T10:00:00Z""#,
            "active eq false",
            "title eq null",
            "userName pr",
            r#"emails co "home.example""#,
            r#"emails[type eq "work" and value ew "acme.example"]"#,
            r#"emails.type eq "home""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "a""#,
            r#"not (userName eq "bob@acme.example")"#,
            r#"userName eq "x" or (active eq false and name.givenName sw "A")"#,
        ] {
            assert!(matches(yes), "{yes}");
        }
        for no in [
            r#"externalId eq "ann-7""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:externalId eq "ann-7""#,
            r#"id eq "2819C223-7F76-453A-919D-413861904646""#,
            "active eq true",
            "title pr",
            r#"emails[type eq "other"]"#,
            r#"userName eq "x" or active eq false and name.givenName eq "Bob""#,
        ] {
            assert!(!matches(no), "{no}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let parsed: Filter = r#"a eq "1" or b eq "2" and c eq "3""#.parse().unwrap();
        assert!(matches!(parsed, Filter::Or(_, right) if matches!(*right, Filter::And(..))));
    }

    #[test]
    fn malformed_filters_say_what_is_wrong() {
        for (bad, says) in [
            (r#"userName eq"#, "expected a value"),
            (r#"userName xx "a""#, "is not an operator"),
            (r#"userName eq "a" garbage"#, "unexpected"),
            (r#"(userName eq "a""#, "expected \")\""),
            (r#"userName eq "a"#, "not closed"),
            (r#"emails[type eq "work""#, "expected \"]\""),
            ("not userName pr", "must be followed"),
            ("1abc eq 2", "not a number"),
            ("_x eq 2", "not an attribute name"),
        ] {
            let error = bad.parse::<Filter>().expect_err(bad);
            assert!(error.0.contains(says), "{bad}: {error}");
        }
        let deep = format!("{}a pr{}", "(".repeat(17), ")".repeat(17));
        assert!(
            deep.parse::<Filter>()
                .expect_err("deep")
                .0
                .contains("deeper")
        );
        let wide = vec!["a pr"; 65].join(" and ");
        assert!(
            wide.parse::<Filter>()
                .expect_err("wide")
                .0
                .contains("comparisons")
        );
        assert!("a".repeat(MAX_LEN + 1).parse::<Filter>().is_err());
    }

    #[test]
    fn patch_paths_with_value_filters_and_sub_attributes() {
        let path: PatchPath = r#"emails[type eq "work"].value"#.parse().unwrap();
        assert!(path.attr.is("emails"));
        assert_eq!(path.sub.as_deref(), Some("value"));
        assert!(path.filter.is_some());
        let plain: PatchPath = "name.givenName".parse().unwrap();
        assert_eq!(plain.attr.sub.as_deref(), Some("givenName"));
        let members: PatchPath = r#"members[value eq "abc"]"#.parse().unwrap();
        assert!(members.attr.is("members") && members.sub.is_none());
        let ext: PatchPath = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
            .parse()
            .unwrap();
        assert_eq!(ext.attr.name, "manager");
        assert!(r#"emails[type eq "work"]."#.parse::<PatchPath>().is_err());
        let whole: PatchPath = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            .parse()
            .unwrap();
        assert_eq!(
            (whole.attr.schema, whole.attr.name.as_str()),
            (
                None,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            ),
            "the extension itself, not an attribute named User"
        );
    }

    proptest::proptest! {
        /// Any text is parsed or refused, never a panic, and what parses evaluates.
        #[test]
        fn any_text_is_parsed_or_refused(text in "[a-zA-Zé€😀\\[\\]().\"\\\\ :=0-9-]{0,120}") {
            if let Ok(filter) = text.parse::<Filter>() {
                let _ = filter.matches(&user());
            }
            let _ = text.parse::<PatchPath>();
        }

        /// Words that start like a schema URN, multi-byte characters included.
        #[test]
        fn urn_like_words_never_split_a_character(tail in "[a-zé€:.]{0,12}") {
            for head in ["u", "ur", "urn", "uré", "€", "urn:", "URN:x"] {
                let _ = format!("{head}{tail} pr").parse::<Filter>();
                let _ = format!("{head}{tail}").parse::<PatchPath>();
            }
        }
    }
}
