// giropops-senhas: the page, in place, through the Connect JSON API (the
// same form works without this file). Secrets only ever reach the page
// through textContent, never as HTML; the token lives in memory, or in
// sessionStorage when asked, never in localStorage or a cookie.
"use strict";

const $ = (selector) => document.querySelector(selector);
const $$ = (selector) => [...document.querySelectorAll(selector)];
const SERVICE = "/giropops.v1.PasswordService/";
const TOKEN_KEY = "giropops-senhas-token";
const thresholds = JSON.parse(document.body.dataset.strength);
const words = JSON.parse(document.body.dataset.text);
let token = sessionStorage.getItem(TOKEN_KEY) || "";

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const strength = (bits) => words[(thresholds.find(([below]) => bits < below) || [0, "excellent"])[1]];

// One Connect call; a failed one throws Connect's error object.
async function call(method, body) {
  const headers = { "content-type": "application/json", "connect-protocol-version": "1" };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(SERVICE + method, { method: "POST", headers, body: JSON.stringify(body) });
  } catch (error) {
    throw { code: "unavailable", message: `${words.unreachable} (${error.message})` };
  }
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw { code: json.code || "unknown", message: json.message || response.statusText, details: json.details || [] };
  return json;
}

// The request the form's inputs describe, in the contract's field names.
function request(fieldset) {
  const body = {};
  for (const input of $$(`${fieldset} [data-field]`)) {
    const name = camel(input.dataset.field);
    if (input.type === "checkbox") {
      if (input.dataset.invert !== undefined) {
        if (input.checked) body[name] = false;
      } else if (input.checked) {
        body[name] = true;
      }
    } else if (input.type === "number") {
      if (input.value.trim() !== "") body[name] = Number(input.value);
    } else if (input.value !== "") {
      body[name] = input.value;
    }
  }
  return body;
}

function clearErrors(scope) {
  for (const element of $$(`${scope} .error`)) element.textContent = "";
  for (const input of $$(`${scope} [aria-invalid]`)) input.removeAttribute("aria-invalid");
  $(".failure")?.remove();
}

// Every violation beside the field it names; the rest in the form's slot.
function showError(scope, error) {
  const violations = (error.details || [])
    .filter((detail) => detail.type === "google.rpc.BadRequest")
    .flatMap((detail) => detail.debug?.fieldViolations || []);
  if (violations.length === 0) {
    const slot = $(`${scope} [data-error-for="form"]`);
    if (["unavailable", "resource_exhausted", "deadline_exceeded"].includes(error.code)) {
      // Unreachable or shedding: said as such, with a way to try again.
      slot.textContent = `${words.busy} ${error.message} `;
      const retry = Object.assign(document.createElement("button"), { type: "button", textContent: words.retry, id: "retry" });
      retry.addEventListener("click", () => (scope === "#generator" ? generate() : loadHistory()));
      slot.append(retry);
    } else {
      slot.textContent = `${error.code}: ${error.message}`;
    }
    return;
  }
  for (const { field, description } of violations) {
    const slot = $(`${scope} [data-error-for="${CSS.escape(field)}"]`) || $(`${scope} [data-error-for="form"]`);
    slot.textContent = slot.textContent ? `${slot.textContent}; ${description}` : description;
    $(`${scope} [data-field="${CSS.escape(field)}"]`)?.setAttribute("aria-invalid", "true");
  }
}

function showResult(secrets, bits, stored) {
  const single = secrets.length < 2;
  $("#senha").textContent = secrets[0] || "";
  // One data-testid="password" per password: the output, or each row.
  if (single) $("#senha").dataset.testid = "password";
  else delete $("#senha").dataset.testid;
  const batch = $("#batch");
  batch.replaceChildren(...secrets.map((secret) => {
    const item = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = secret;
    if (!single) code.dataset.testid = "password";
    item.append(code);
    return item;
  }));
  batch.hidden = single;
  $("#strength").textContent = `${bits.toFixed(1)} ${words.bits}, ${strength(bits)}${stored ? ` · ${words.kept}` : ""}`;
  $("#strength-meter").value = Math.min(bits, 160);
  $("#copy").hidden = secrets.length === 0;
  $("#copied").textContent = "";
}

// The kind the form asks for: senha, frase or chave (an API key).
const mode = () => $('input[name="modo"]:checked').value;

async function generate() {
  clearErrors("#generator");
  try {
    if (mode() === "chave") {
      const reply = await call("GenerateToken", request("#token-options"));
      showResult([reply.token], reply.entropyBits || 0, false);
    } else if (mode() === "frase") {
      const reply = await call("GeneratePassphrase", request("#passphrase-options"));
      showResult([reply.passphrase], reply.entropyBits || 0, reply.stored === true);
    } else {
      const reply = await call("GeneratePassword", request("#password-options"));
      showResult(reply.passwords || [reply.password], reply.entropyBits || 0, reply.stored === true);
    }
    await loadHistory();
  } catch (error) {
    showError("#generator", error);
  }
}

async function copy() {
  const text = $("#batch").hidden ? $("#senha").textContent : $$("#batch code").map((c) => c.textContent).join("\n");
  try {
    await navigator.clipboard.writeText(text);
    $("#copied").textContent = words.copied;
  } catch {
    // No clipboard permission: select it, so Ctrl+C / Cmd+C copies it.
    const range = document.createRange();
    range.selectNodeContents($("#batch").hidden ? $("#senha") : $("#batch"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    $("#copied").textContent = document.execCommand?.("copy") ? words.copied : words.selected;
  }
}

async function check(event) {
  event.preventDefault();
  clearErrors("#check-form");
  const result = $("#check-result");
  const password = $("#verificar").value;
  try {
    const reply = await call("CheckPassword", { password });
    const lines = [`${words.score} ${reply.score || 0}/4, ${words.cracked} ${reply.crackTimeDisplay}`];
    if (reply.warning) lines.push(reply.warning);
    for (const suggestion of reply.suggestions || []) lines.push(`- ${suggestion}`);
    result.replaceChildren(...lines.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
  } catch (error) {
    result.replaceChildren();
    showError("#check-form", error);
  }
}

// Whether the caller may read a history: the server said so in the page,
// or a token was given (the page does not ask for what it will be refused).
const historyReadable = () => $("#history").dataset.shown === "true" || token !== "";

async function loadHistory() {
  const note = $("#history-note");
  if (!historyReadable()) {
    $("#history-list").replaceChildren();
    note.textContent = words.need_token;
    return;
  }
  try {
    const reply = await call("ListPasswords", { pageSize: 10 });
    const entries = reply.passwords || [];
    note.textContent = entries.length ? "" : words.nothing_yet;
    $("#history-list").replaceChildren(...entries.map((entry) => {
      const item = document.createElement("li");
      item.dataset.testid = "history-item";
      const code = document.createElement("code");
      code.textContent = entry.password;
      const small = document.createElement("small");
      small.textContent = ` ${entry.createdAt} · ${(entry.entropyBits || 0).toFixed(1)} ${words.bits}`;
      item.append(code, small);
      return item;
    }));
  } catch (error) {
    $("#history-list").replaceChildren();
    note.textContent = ["unauthenticated", "permission_denied"].includes(error.code)
      ? words.need_token
      : error.code === "failed_precondition" ? words.no_history : `${words.history_unavailable} ${error.message}`;
  }
}

function showMode() {
  $("#password-options").hidden = mode() !== "senha";
  $("#passphrase-options").hidden = mode() !== "frase";
  $("#token-options").hidden = mode() !== "chave";
}

let pending;
function regenerateSoon() {
  clearTimeout(pending);
  pending = setTimeout(generate, 300);
}

$("#generator").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(pending);
  generate();
});
$("#generator").addEventListener("change", (event) => {
  if (event.target.name === "modo") showMode();
  regenerateSoon();
});
$("#copy").addEventListener("click", copy);
$("#check-form").addEventListener("submit", check);
$("#use-token").addEventListener("click", () => {
  token = $("#token").value.trim();
  $("#token").value = "";
  if ($("#remember").checked && token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  loadHistory();
});
$("#forget-token").addEventListener("click", () => {
  token = "";
  $("#token").value = "";
  sessionStorage.removeItem(TOKEN_KEY);
  loadHistory();
});
$("#copy").hidden = $("#senha").textContent === "";
showMode();
if ($("#senha").textContent === "") generate();
else loadHistory();
