// The offline viewer of a migrator backup. Plain DOM, no framework, no build step.
// Data come from .migrator/viewer/data/*.js shards (see build.py); every text in them is untrusted and is
// put on the page as text (descriptions: a few tags kept through an allow-list, built with DOM calls).
"use strict";

var viewer = (function () {
  const DATA = ".migrator/viewer/data/";
  const pending = new Map(); // shard name -> the resolve functions of the loads waiting for it
  const cache = new Map(); // shard name -> value (a few months and albums at most)
  const CACHE_LIMIT = 12;
  const main = document.getElementById("main");
  let manifest = null;
  let route = 0; // bumped on every navigation: a slow load for an older view draws nothing
  let keys = null; // the current document page's ←/→ targets

  // -- loading shards ------------------------------------------------------------------------------
  function take(name, value) {
    const waiting = pending.get(name) || [];
    pending.delete(name);
    for (const resolve of waiting) resolve(value);
  }

  function load(name, keep = true) {
    if (cache.has(name)) return Promise.resolve(cache.get(name));
    return new Promise(function (resolve, reject) {
      pending.set(name, (pending.get(name) || []).concat([resolve]));
      const script = document.createElement("script");
      script.src = DATA + encodeURIComponent(name) + ".js";
      script.onload = function () { script.remove(); };
      script.onerror = function () { script.remove(); reject(new Error("missing data file " + name)); };
      document.head.appendChild(script);
    }).then(function (value) {
      if (keep) {
        cache.set(name, value);
        if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value);
      }
      return value;
    });
  }

  function month(key) {
    const info = manifest.months.find(function (m) { return m.key === key; });
    if (!info) return Promise.resolve([]);
    const parts = [];
    for (let n = 0; n < info.parts; n++) parts.push(load("m-" + key + "-" + n));
    return Promise.all(parts).then(function (lists) { return [].concat.apply([], lists); });
  }

  // -- building the page ---------------------------------------------------------------------------
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined) continue;
      if (name === "data") Object.assign(node.dataset, value);
      else node[name] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child)); // strings become text nodes
    }
    return node;
  }

  function show(...children) {
    main.replaceChildren(...children);
    window.scrollTo(0, 0);
  }

  const KEEP = { B: "b", STRONG: "b", I: "i", EM: "i", BR: "br", P: "p", A: "a" };
  const DROP = new Set(["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT", "EMBED", "TITLE", "NOSCRIPT", "SVG", "MATH"]);

  // A description: its HTML parsed in an inert document (nothing there runs or loads), then only b, i, p, br
  // and a with an http(s) link copied into new elements; any other tag keeps its text only.
  function richText(html) {
    const out = document.createDocumentFragment();
    copyAllowed(new DOMParser().parseFromString(html, "text/html").body, out);
    return out;
  }

  function copyAllowed(from, to) {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        to.append(node.data);
      } else if (node.nodeType === Node.ELEMENT_NODE && !DROP.has(node.tagName.toUpperCase())) {
        const tag = KEEP[node.tagName.toUpperCase()];
        if (!tag) { copyAllowed(node, to); continue; }
        const copy = document.createElement(tag);
        const href = tag === "a" ? (node.getAttribute("href") || "").trim() : "";
        if (/^https?:\/\//i.test(href)) {
          copy.href = href;
          copy.rel = "noopener noreferrer nofollow";
        }
        copyAllowed(node, copy);
        to.append(copy);
      }
    }
  }

  function plainText(html) {
    return new DOMParser().parseFromString(html, "text/html").body.textContent || "";
  }

  function docLink(item, context) {
    const parts = ["#/doc", item.month, item.source, item.id].map(function (p, i) { return i ? encodeURIComponent(p) : p; });
    return parts.join("/") + (context ? "/" + encodeURIComponent(context) : "");
  }

  function picture(item) {
    if (item.thumb) return el("img", { src: item.thumb, alt: item.title || "", loading: "lazy", decoding: "async" });
    return el("span", { className: "placeholder" }, item.media === "video" ? "▶ video" : "no preview");
  }

  function tile(item, context) {
    return el("a", { className: "tile", href: docLink(item, context), title: item.title || "" },
      picture(item), el("span", { className: "caption" }, item.title || "(untitled)"));
  }

  function grid(items, context) {
    return el("div", { className: "grid" }, ...items.map(function (item) { return tile(item, context); }));
  }

  function withMonth(items, key) {
    return items.map(function (item) { return Object.assign({ month: key }, item); });
  }

  // -- views ---------------------------------------------------------------------------------------
  // The photostream (or one year): month by month, newest first, one shard part more per "More".
  function stream(year) {
    const months = manifest.months.filter(function (m) { return !year || m.key === year || m.key.slice(0, 4) === year; });
    const parts = [];
    for (const m of months) for (let n = 0; n < m.parts; n++) parts.push([m.key, n]);
    const total = months.reduce(function (sum, m) { return sum + m.count; }, 0);
    const list = el("div", { id: "stream", className: "grid" });
    const more = el("button", { id: "more", type: "button" }, "More");
    const heading = year === "undated" ? "Undated" : year ? "Year " + year : "Photostream";
    show(el("h1", {}, heading), el("p", { className: "count" }, el("span", { id: "total" }, total), " documents"), list, more);
    let next = 0;
    let shownHeading = null;
    const me = route;
    function page() {
      if (next >= parts.length) { more.hidden = true; return Promise.resolve(); }
      const [key, n] = parts[next++];
      return load("m-" + key + "-" + n).then(function (items) {
        if (me !== route) return;
        const heading = key === "undated" ? "Undated" : key.slice(0, 4); // a heading per year: sparse months stay compact
        if (heading !== shownHeading) list.append(el("h2", {}, (shownHeading = heading)));
        list.append(...withMonth(items, key).map(function (item) { return tile(item, year ? "year" : ""); }));
        more.hidden = next >= parts.length;
        if (list.querySelectorAll(".tile").length < 60 && next < parts.length) return page();
      });
    }
    more.onclick = page;
    return page();
  }

  function years() {
    const items = manifest.years.map(function (y) {
      return el("li", {}, el("a", { href: "#/year/" + y.year }, y.year), " ", el("span", { className: "count" }, y.count));
    });
    if (manifest.undated) items.push(el("li", {}, el("a", { href: "#/year/undated" }, "Undated"), " ", el("span", { className: "count" }, manifest.undated)));
    show(el("h1", {}, "Years"), el("ul", { className: "years" }, ...items));
  }

  function albums() {
    return load("albums").then(function (data) {
      const byId = new Map();
      for (const a of data.albums.concat(data.collections)) byId.set(a.source + "\n" + a.id, a);
      const cards = data.albums.map(albumCard);
      const tree = data.collections.filter(function (c) {
        return !data.collections.some(function (p) { return p.source === c.source && p.children.includes(c.id); });
      }).map(function (c) { return collection(c, byId, new Set()); });
      show(el("h1", {}, "Albums"), el("p", { className: "count" }, el("span", { id: "album-count" }, data.albums.length), " albums"),
        el("div", { className: "albums" }, ...cards),
        tree.length ? el("h1", {}, "Collections") : null, ...tree);
    });
  }

  function albumCard(a) {
    const cover = a.cover ? picture(a.cover) : el("span", { className: "placeholder" }, "empty");
    return el("a", { className: "album", href: "#/album/" + a.shard },
      cover, el("span", { className: "caption" }, a.title || "(untitled)"),
      a.description ? el("span", { className: "summary" }, plainText(a.description)) : null,
      el("span", { className: "count" }, a.count + " items"));
  }

  function collection(c, byId, path) {
    const inside = [];
    for (const id of c.children) {
      const child = byId.get(c.source + "\n" + id);
      if (!child || path.has(id)) continue; // a cycle is cut
      inside.push(child.children ? collection(child, byId, new Set(path).add(c.id)) : albumCard(child));
    }
    return el("section", { className: "collection" }, el("h2", {}, c.title || "(untitled)"),
      c.description ? el("div", { className: "description" }, richText(c.description)) : null,
      el("div", { className: "albums" }, ...inside));
  }

  function album(shard) {
    return Promise.all([load("albums"), load(shard)]).then(function ([data, members]) {
      const a = data.albums.find(function (x) { return x.shard === shard; });
      if (!a) return notFound();
      show(el("h1", {}, a.title || "(untitled)"),
        a.description ? el("div", { className: "description" }, richText(a.description)) : null,
        el("p", { className: "count" }, members.length + " items" + (a.missing ? ", " + a.missing + " not in this backup" : "")),
        grid(members, shard));
    });
  }

  function search(query) {
    document.getElementById("q").value = query;
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const status = el("p", { className: "count", id: "search-status" }, "Searching…");
    const results = el("div", { className: "grid", id: "results" });
    show(el("h1", {}, "Search: ", query), status, results);
    const parts = [];
    for (const m of manifest.months) for (let n = 0; n < m.parts; n++) parts.push([m.key, n]);
    const me = route;
    let found = 0;
    const LIMIT = 500;
    // Shard after shard, each dropped once searched: memory stays that of one shard.
    function step(i) {
      if (me !== route) return;
      if (i >= parts.length || found >= LIMIT) {
        status.textContent = found + (found >= LIMIT ? "+" : "") + " found";
        return;
      }
      const [key, n] = parts[i];
      return load("m-" + key + "-" + n, false).then(function (items) {
        for (const item of items) {
          const text = [item.title, plainText(item.description), item.tags.join(" ")].join(" ").toLowerCase();
          if (found < LIMIT && words.every(function (w) { return text.includes(w); })) {
            results.append(tile(Object.assign({ month: key }, item), ""));
            found++;
          }
        }
        status.textContent = "Searching… " + found + " found";
        return step(i + 1);
      });
    }
    return step(0);
  }

  // -- a document's page ---------------------------------------------------------------------------
  function documentPage(key, source, id, context) {
    const list = context && context.startsWith("a-") ? load(context) : month(key).then(function (items) { return withMonth(items, key); });
    return list.then(function (items) {
      const at = items.findIndex(function (x) { return x.source === source && x.id === id; });
      if (at < 0) return notFound();
      const full = context && context.startsWith("a-") ? month(items[at].month).then(function (docs) {
        return docs.find(function (x) { return x.source === source && x.id === id; });
      }) : Promise.resolve(items[at]);
      return full.then(function (doc) {
        if (!doc) return notFound();
        keys = { prev: neighbour(items, at, -1, context), next: neighbour(items, at, 1, context) };
        show(documentView(doc, context));
      });
    });
  }

  // The previous or next document: in the album, else in the photostream (across months; within a year's view).
  function neighbour(items, at, step, context) {
    const near = items[at + step];
    if (near) return function () { location.hash = docLink(near, context); };
    if (context && context.startsWith("a-")) return null;
    const months = manifest.months;
    const i = months.findIndex(function (m) { return m.key === items[at].month; }) + step;
    const other = months[i];
    if (!other || (context === "year" && other.key.slice(0, 4) !== items[at].month.slice(0, 4))) return null;
    return function () {
      month(other.key).then(function (docs) {
        const doc = step > 0 ? docs[0] : docs[docs.length - 1];
        if (doc) location.hash = docLink(Object.assign({ month: other.key }, doc), context);
      });
    };
  }

  function media(doc) {
    if (doc.media === "video" && doc.file) {
      return el("video", { controls: true, preload: "metadata", src: doc.file });
    }
    const src = doc.preview || doc.file;
    if (!src) return el("div", { className: "placeholder big" }, "no image in this backup");
    // a turned photo always has an upright preview (made by the build): no CSS turn on top of the EXIF one
    const img = el("img", { src: src, alt: doc.title || "" });
    img.onerror = function () { img.replaceWith(el("div", { className: "placeholder big" }, "this file cannot be shown here")); };
    return img;
  }

  function when(value, granularity) {
    if (!value) return null;
    const text = value.replace("T", " ").replace(/Z$/, " UTC");
    if (granularity === "year" || granularity === "circa") return (granularity === "circa" ? "circa " : "") + text.slice(0, 4);
    if (granularity === "month") return text.slice(0, 7);
    return text;
  }

  function field(name, label, value) {
    if (value === null || value === undefined || value === "") return null;
    return el("div", { className: "field" }, el("dt", {}, label), el("dd", { data: { field: name } }, value));
  }

  function place(geo) {
    if (!geo) return null;
    const lat = Number(geo.lat).toFixed(6), lon = Number(geo.lon).toFixed(6);
    const map = "https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon + "#map=15/" + lat + "/" + lon;
    return el("span", {}, lat + ", " + lon + " ", el("a", { href: map, rel: "noopener noreferrer" }, "(map)"));
  }

  function comments(list) {
    if (!list.length) return null;
    return el("section", { className: "comments", data: { field: "comments" } }, el("h2", {}, "Comments (" + list.length + ")"),
      ...list.map(function (c) {
        return el("article", { className: "comment" }, el("p", { className: "meta" }, el("b", {}, c.author || "someone"), " ", when(c.date) || ""),
          el("div", { className: "text" }, richText(c.text)));
      }));
  }

  function documentView(doc, context) {
    const nav = el("p", { className: "pager" },
      keys.prev ? el("button", { type: "button", id: "prev", onclick: keys.prev }, "← Previous") : null,
      keys.next ? el("button", { type: "button", id: "next", onclick: keys.next }, "Next →") : null);
    const tags = doc.tags.length ? el("span", { className: "tags" }, ...doc.tags.map(function (t) { return el("span", { className: "tag" }, t); })) : null;
    const original = doc.file ? el("a", { href: doc.file }, doc.name || "the original") : (doc.name || null);
    const notes = doc.notes.length ? el("ul", { className: "notes" }, ...doc.notes.map(function (n) { return el("li", {}, n); })) : null;
    return el("article", { className: "document", data: { source: doc.source, id: doc.id } }, nav,
      el("figure", {}, media(doc)), el("div", { className: "info" },
      el("h1", { data: { field: "title" } }, doc.title || "(untitled)"),
      doc.description ? el("div", { className: "description", data: { field: "description" } }, richText(doc.description)) : null,
      el("dl", {},
        field("tags", "Tags", tags),
        field("taken", "Taken", when(doc.taken, doc.granularity)),
        field("posted", "Posted", when(doc.posted)),
        field("visibility", "Visible to", doc.visibility),
        field("license", "Licence", doc.license),
        field("place", "Place", place(doc.geo)),
        field("name", "Original file", original),
        field("origin", "From", doc.source + " " + doc.id),
        field("notes", "Not in this backup", notes)),
      comments(doc.comments)));
  }

  function notFound() {
    show(el("h1", {}, "Not found"), el("p", {}, "This backup has no such page. ", el("a", { href: "#/" }, "Photostream")));
  }

  // -- routing -------------------------------------------------------------------------------------
  function go() {
    route++;
    keys = null;
    const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    const [view, ...rest] = parts;
    let done;
    if (view === "doc" && rest.length >= 3) done = documentPage(rest[0], rest[1], rest[2], rest[3] || "");
    else if (view === "albums") done = albums();
    else if (view === "album") done = album(rest[0]);
    else if (view === "years") done = years();
    else if (view === "year") done = stream(rest[0]);
    else if (view === "search") done = search(rest.join("/"));
    else done = stream("");
    Promise.resolve(done).catch(function (error) {
      show(el("h1", {}, "Cannot show this page"), el("p", {}, String(error.message || error)));
    });
  }

  document.addEventListener("keydown", function (event) {
    if (!keys || event.target.closest("input, textarea") || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowLeft" && keys.prev) keys.prev();
    else if (event.key === "ArrowRight" && keys.next) keys.next();
  });

  document.getElementById("search").addEventListener("submit", function (event) {
    event.preventDefault();
    const query = document.getElementById("q").value.trim();
    if (query) location.hash = "#/search/" + encodeURIComponent(query);
  });

  window.addEventListener("hashchange", go);
  load("manifest").then(function (value) {
    manifest = value;
    go();
  }).catch(function () {
    show(el("h1", {}, "No viewer data"), el("p", {}, "The folder .migrator/viewer/data is missing: run migrator into this backup again to rebuild it."));
  });

  return { take: take };
})();
