//! A request's query string: each parameter checked against the names a
//! route takes, and read as what it should be, with a 400 that says which
//! parameter was wrong and how.

use std::collections::HashMap;

use crate::error::ApiError;

/// The parameters of one request.
pub(crate) struct Params {
    values: HashMap<String, Vec<String>>,
}

impl Params {
    /// Parses `raw`, refusing a parameter not in `known`.
    pub(crate) fn parse(raw: Option<&str>, known: &[&str]) -> Result<Params, ApiError> {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            // The access token is the security layer's, on every route.
            if key == "token" {
                continue;
            }
            if !known.contains(&key.as_ref()) {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter `{key}` (this route takes {})",
                    known.join(", ")
                )));
            }
            values
                .entry(key.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Ok(Params { values })
    }

    /// The parameter's value, if given (once).
    pub(crate) fn one(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.values.get(key).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([value]) => Ok(Some(value.as_str())),
            Some(_) => Err(ApiError::bad_request(format!(
                "`{key}` is given more than once"
            ))),
        }
    }

    /// Every value of a parameter that may repeat.
    pub(crate) fn all(&self, key: &str) -> &[String] {
        self.values.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// A number parameter, within `min..=max`.
    pub(crate) fn count(
        &self,
        key: &str,
        default: usize,
        min: usize,
        max: usize,
    ) -> Result<usize, ApiError> {
        let Some(text) = self.one(key)? else {
            return Ok(default);
        };
        let n: usize = text.parse().map_err(|_| {
            ApiError::bad_request(format!("`{key}` is {text:?}, not a whole number"))
        })?;
        if n < min || n > max {
            return Err(ApiError::bad_request(format!(
                "`{key}` is {n}: it takes {min} to {max}"
            )));
        }
        Ok(n)
    }

    /// A step bound (`from`, `to`): a number, `-inf`/`inf`, or absent.
    pub(crate) fn step(&self, key: &str, default: f64) -> Result<f64, ApiError> {
        let Some(text) = self.one(key)? else {
            return Ok(default);
        };
        match text.parse::<f64>() {
            Ok(x) if !x.is_nan() => Ok(x),
            _ => Err(ApiError::bad_request(format!(
                "`{key}` is {text:?}, not a step (a number)"
            ))),
        }
    }

    /// A yes/no parameter: `true`/`false`, `1`/`0`, or absent.
    pub(crate) fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.one(key)? {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") | Some("") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "`{key}` is {other:?}: it takes true or false"
            ))),
        }
    }

    /// A field path parameter that must be given.
    pub(crate) fn path(&self, key: &str) -> Result<&str, ApiError> {
        let path = self
            .one(key)?
            .ok_or_else(|| ApiError::bad_request(format!("`{key}` is missing")))?;
        hippocamp_core::path::validate(path)
            .map_err(|e| ApiError::bad_request(format!("`{key}` is not a field path: {e}")))?;
        Ok(path)
    }
}
