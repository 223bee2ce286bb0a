/* Kanban board: HTML5 drag and drop; a drop posts to the move endpoint (the service applies the gate).
   A refused move snaps the card back and shows the unmet key-node items; managers may move anyway
   with a recorded reason. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) { return; }
  var data = JSON.parse(document.getElementById("board-data").textContent);
  var texts = JSON.parse(document.getElementById("board-texts").textContent);
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var statusEl = document.getElementById("board-status");
  var dialog = document.getElementById("move-dialog");
  var dialogTitle = document.getElementById("move-dialog-title");
  var dialogBody = document.getElementById("move-dialog-body");
  var confirmBtn = document.getElementById("move-dialog-confirm");
  var drag = null; // {card, from, next}

  function fmt(template, stage) { return template.replace("%(stage)s", stage); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function adjust(column, card, sign) {
    var count = column.querySelector(".board-count");
    count.textContent = String(parseInt(count.textContent, 10) + sign);
    var amount = column.querySelector(".board-amount");
    var value = parseFloat(amount.dataset.amount || "0") + sign * parseFloat(card.dataset.amount || "0");
    amount.dataset.amount = String(value);
    amount.textContent = Math.round(value).toLocaleString("en-US");
  }

  function snapBack(move) {
    move.from.insertBefore(move.card, move.next && move.next.parentNode === move.from ? move.next : null);
  }

  function openDialog(title, body, confirmText, onConfirm) {
    dialogTitle.textContent = title;
    dialogBody.replaceChildren.apply(dialogBody, body);
    confirmBtn.hidden = !confirmText;
    confirmBtn.textContent = confirmText || "";
    confirmBtn.onclick = onConfirm || null;
    if (dialog.open) { return; }
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  }

  function closeDialog() { if (dialog.open) { dialog.close(); } }

  function send(move, extra) {
    var body = Object.assign({stage: parseInt(move.to.dataset.stageId, 10)}, extra || {});
    move.to.querySelector(".board-cards").prepend(move.card);
    move.card.classList.add("is-saving");
    return fetch(data.move_url.replace("{id}", move.card.dataset.dealId), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        move.card.classList.remove("is-saving");
        if (response.ok) {
          adjust(move.fromColumn, move.card, -1);
          adjust(move.to, move.card, +1);
          if (json.semantic === "won") { move.card.setAttribute("draggable", "false"); }
          statusEl.textContent = fmt(texts.moved, move.to.dataset.stageName);
          statusEl.className = "board-status is-ok";
          closeDialog();
          return;
        }
        snapBack(move);
        if (response.status === 409 && json.code === "key_node_unmet") { refused(move, json, extra); return; }
        var message = json.message || texts.failed;
        if (json.fields) {
          message += " " + Object.keys(json.fields).map(function (k) { return json.fields[k].join(" "); }).join(" ");
        }
        statusEl.textContent = message;
        statusEl.className = "board-status is-error";
        closeDialog();
      });
    }).catch(function () {
      move.card.classList.remove("is-saving");
      snapBack(move);
      statusEl.textContent = texts.failed;
      statusEl.className = "board-status is-error";
    });
  }

  function refused(move, json, extra) {
    var list = el("ul", {"class": "unmet"});
    json.unmet.forEach(function (u) {
      list.appendChild(el("li", {}, u.stage_name + ": " + (u.kind === "field" ? texts.fill_in + " " : "") + u.text));
    });
    var body = [list];
    if (json.may_override) {
      var label = el("label", {"for": "override-reason"}, texts.override_label);
      var area = el("textarea", {id: "override-reason", rows: "2"});
      body.push(el("div", {"class": "field field-wide"}));
      body[1].append(label, area);
      openDialog(fmt(texts.refused, move.to.dataset.stageName), body, texts.move_anyway, function () {
        if (!area.value.trim()) { area.focus(); return; }
        send(move, Object.assign({}, extra || {}, {override_reason: area.value.trim()}));
      });
    } else {
      body.push(el("p", {}, texts.ask_manager));
      openDialog(fmt(texts.refused, move.to.dataset.stageName), body);
    }
    statusEl.textContent = fmt(texts.refused, move.to.dataset.stageName);
    statusEl.className = "board-status is-error";
  }

  function askLostReason(move) {
    var select = el("select", {id: "lost-reason", required: ""});
    select.appendChild(el("option", {value: ""}, "—"));
    data.lost_reasons.forEach(function (r) { select.appendChild(el("option", {value: String(r.id)}, r.name)); });
    var note = el("input", {id: "lost-note", maxlength: "500"});
    var f1 = el("div", {"class": "field"}); f1.append(el("label", {"for": "lost-reason"}, texts.reason), select);
    var f2 = el("div", {"class": "field"}); f2.append(el("label", {"for": "lost-note"}, texts.details), note);
    openDialog(texts.lose_title, [f1, f2], texts.mark_lost, function () {
      if (!select.value) { select.focus(); return; }
      move.sent = true;
      send(move, {reason: parseInt(select.value, 10), reason_note: note.value.trim()});
    });
  }

  board.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".deal-card");
    if (!card || card.getAttribute("draggable") !== "true") { return; }
    drag = {card: card, from: card.parentNode, next: card.nextElementSibling,
            fromColumn: card.closest(".board-column")};
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.dealId);
    card.classList.add("is-dragging");
  });
  board.addEventListener("dragend", function (e) {
    var card = e.target.closest && e.target.closest(".deal-card");
    if (card) { card.classList.remove("is-dragging"); }
    board.querySelectorAll(".is-over").forEach(function (c) { c.classList.remove("is-over"); });
  });
  board.addEventListener("dragover", function (e) {
    var column = e.target.closest && e.target.closest(".board-column");
    if (!drag || !column) { return; }
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    column.classList.add("is-over");
  });
  board.addEventListener("dragleave", function (e) {
    var column = e.target.closest && e.target.closest(".board-column");
    if (column && !column.contains(e.relatedTarget)) { column.classList.remove("is-over"); }
  });
  board.addEventListener("drop", function (e) {
    var column = e.target.closest && e.target.closest(".board-column");
    if (!drag || !column) { return; }
    e.preventDefault();
    column.classList.remove("is-over");
    var move = Object.assign({to: column}, drag);
    drag = null;
    if (column === move.fromColumn) { return; }
    if (column.dataset.semantic === "lost") {
      // Losing needs a reason: ask first; closing the dialog without one puts the card back.
      column.querySelector(".board-cards").prepend(move.card);
      move.sent = false;
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (!move.sent) { snapBack(move); }
      });
      askLostReason(move);
      return;
    }
    send(move);
  });
})();
