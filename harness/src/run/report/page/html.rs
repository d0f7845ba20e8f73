//! Text made safe for HTML and SVG: the report holds what scenarios, log lines and AWS's
//! answers put there, so every text is escaped on its way into the page.

/// Escapes `text` for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON made safe inside `<script type="application/json">`: no `</script>` (or any `</`)
/// and no `<!--` can end or change the element early.
pub fn script_json(json: &str) -> String {
    json.replace("</", "<\\/").replace("<!--", "<\\u0021--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_the_report_stays_text() {
        assert_eq!(
            escape(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        let json = script_json(r#"{"message":"</script><script>alert(1)</script><!--"}"#);
        assert!(!json.contains("</"));
        assert!(!json.contains("<!--"));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["message"], "</script><script>alert(1)</script><!--");
    }
}
