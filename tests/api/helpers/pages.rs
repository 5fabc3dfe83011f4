//! A browser stand-in for the pages: keeps the cookies it is given, posts
//! forms as a same-origin page would, and reads fields out of the HTML.

use std::collections::HashMap;

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::StatusCode;
use uuid::Uuid;

use super::{TestApp, TestUser, PASSWORD};

/// The `User-Agent` a `PageClient` sends, which audit rows must carry.
pub const PAGE_CLIENT_AGENT: &str = "latchkey-page-test/1.0";

pub struct PageClient {
    base: String,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

/// One answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers["location"].to_str().unwrap()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The value of the form field `name` on this page.
    pub fn field(&self, name: &str) -> String {
        field(&self.body, name).unwrap_or_else(|| panic!("no field {name} in {}", self.body))
    }
}

/// The `value` of the first input named `name`.
pub fn field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let value = tag.split("value=\"").nth(1)?.split('"').next()?;
    Some(value.to_owned())
}

impl PageClient {
    pub fn new(app: &TestApp) -> PageClient {
        PageClient::at(&app.address)
    }

    /// For a server at this base URL, e.g. the real binary's.
    pub fn at(base: &str) -> PageClient {
        PageClient {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(PAGE_CLIENT_AGENT)
                // Before the server's keep-alive closes them (see spawn_app).
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        let answer = Answer {
            status,
            headers,
            body,
        };
        for set in answer.set_cookies() {
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        answer
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(response).await
    }

    /// A form posted from one of the app's own pages.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let origin = self.base.clone();
        self.post_with(
            path,
            form,
            &[("origin", &origin), ("sec-fetch-site", "same-origin")],
        )
        .await
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form);
        for &(name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        self.keep(response).await
    }

    /// Signs in through the form, as a person would.
    pub async fn sign_in(&mut self, user: &TestUser) -> Answer {
        self.sign_in_as(&user.email, PASSWORD).await
    }

    pub async fn sign_in_as(&mut self, email: &str, password: &str) -> Answer {
        let form = self.get("/ui/login").await;
        let token = form.field("csrf_token");
        let answer = self
            .post(
                "/ui/login",
                &[
                    ("csrf_token", &token),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        answer
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Posts the create form of the company's page with these choices.
    pub async fn create_key(&mut self, company: Uuid, name: &str, expiry: &str) -> Answer {
        self.create_key_with(company, &[("name", name), ("expiry", expiry)])
            .await
    }

    /// Posts the create form of a freshly loaded page (its CSRF token and
    /// reserved key id) with these fields.
    pub async fn create_key_with(&mut self, company: Uuid, fields: &[(&str, &str)]) -> Answer {
        let path = format!("/ui/companies/{company}/api-keys");
        let page = self.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let (csrf, key_id, tag) = (
            page.field("csrf_token"),
            page.field("key_id"),
            page.field("key_id_tag"),
        );
        let mut form = vec![
            ("csrf_token", csrf.as_str()),
            ("key_id", key_id.as_str()),
            ("key_id_tag", tag.as_str()),
        ];
        form.extend_from_slice(fields);
        self.post(&path, &form).await
    }
}

/// The key shown in a reveal.
pub fn revealed_key(html: &str) -> String {
    let at = html.find("id=\"revealed-key\"").expect("a reveal");
    let value = html[at..].split("value=\"").nth(1).unwrap();
    value.split('"').next().unwrap().to_owned()
}
