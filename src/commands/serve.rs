//! `gpu-mlp serve`: the page (built into web/dist/ by `bash web/build.sh`) and the Fashion-MNIST
//! and MNIST files on this computer, over HTTP on 127.0.0.1. Only the page's own files and the
//! datasets' four files are served: no other path of the machine is reachable.

use std::path::{Path, PathBuf};

use gpu_mlp::data::locate::FILES;
use gpu_mlp::data::{idx_files, DatasetName};
use gpu_mlp::Error;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Port to listen on (0: any free one; the address is printed).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Address to listen on; another than 127.0.0.1 lets other machines load the page.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The built page: a folder with index.html and pkg/ (`bash web/build.sh` writes web/dist/).
    #[arg(long, value_name = "DIR")]
    site: Option<PathBuf>,
    /// Folder with the datasets' IDX files, searched as `gpu-mlp train --data-dir` searches it
    /// (without it: $GPU_MLP_DATA, ./data/NAME/ and system folders).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// The page as `bash web/build.sh` leaves it in this source tree.
fn built_site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web").join("dist")
}

pub fn run(args: &ServeArgs) -> Result<(), Error> {
    let site = args.site.clone().unwrap_or_else(built_site);
    if !site.join("index.html").is_file() || !site.join("pkg").is_dir() {
        return Err(Error::InvalidConfig {
            field: "site",
            detail: format!(
                "(--site) {} holds no built page (index.html and pkg/): build it with `bash web/build.sh` \
                 (needs `rustup target add wasm32-unknown-unknown` and wasm-bindgen-cli), or give --site DIR",
                site.display()
            ),
        });
    }
    let server = tiny_http::Server::http((args.host, args.port)).map_err(|e| Error::InvalidConfig {
        field: "port",
        detail: format!("(--port) cannot listen on {}:{}: {e}", args.host, args.port),
    })?;
    let address = server
        .server_addr()
        .to_ip()
        .map_or_else(|| format!("{}:{}", args.host, args.port), |a| a.to_string());
    for dataset in [DatasetName::Fashion, DatasetName::Mnist] {
        match idx_files(dataset, args.data_dir.as_deref()) {
            Ok(paths) => println!("offering {}: {}", dataset.as_str(), folder_of(&paths[0])),
            Err(_) => println!(
                "offering no {} (its files are not where `train` looks)",
                dataset.as_str()
            ),
        }
    }
    println!("serving the page at http://{address}/ (Ctrl-C stops)");
    for request in server.incoming_requests() {
        let response = respond(&site, args.data_dir.as_deref(), request.method(), request.url());
        // A client that went away mid-answer is its own business.
        let _ = request.respond(response);
    }
    Ok(())
}

fn folder_of(path: &Path) -> String {
    path.parent().map_or_else(String::new, |p| p.display().to_string())
}

/// The file a request's path names, if it is one the page may load.
fn resolve(site: &Path, data_dir: Option<&Path>, path: &str) -> Option<PathBuf> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // A plain file name: never a way out of its folder.
    let plain = |name: &str| !name.is_empty() && !name.starts_with('.') && !name.contains('\\');
    match parts.as_slice() {
        [""] | ["index.html"] => Some(site.join("index.html")),
        ["sw.js"] => Some(site.join("sw.js")).filter(|p| p.is_file()),
        ["pkg", name] if plain(name) => Some(site.join("pkg").join(name)).filter(|p| p.is_file()),
        ["data", dataset, file] => {
            let dataset = <DatasetName as clap::ValueEnum>::from_str(dataset, false)
                .ok()
                .filter(|d| d.is_images())?;
            let index = FILES.iter().position(|base| file.strip_suffix(".gz") == Some(base))?;
            idx_files(dataset, data_dir).ok().map(|paths| paths[index].clone())
        }
        _ => None,
    }
}

fn respond(
    site: &Path,
    data_dir: Option<&Path>,
    method: &tiny_http::Method,
    url: &str,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let text = |code: u16, body: &str| {
        tiny_http::Response::from_string(body)
            .with_status_code(code)
            .with_header(header("Content-Type", "text/plain; charset=utf-8"))
    };
    if *method != tiny_http::Method::Get {
        return text(405, "only GET");
    }
    let Some(path) = resolve(site, data_dir, url) else {
        return text(404, "not found");
    };
    match std::fs::read(&path) {
        Ok(bytes) => tiny_http::Response::from_data(bytes)
            .with_header(header("Content-Type", content_type(&path)))
            .with_header(header("Cache-Control", "no-cache")),
        Err(e) => text(404, &format!("cannot read {}: {e}", path.display())),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    // Both are ASCII constants of this file.
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("an ASCII header")
}
