// latchkey pages: enhancements only. Every flow also works without this
// file, as plain links and forms: it makes the dialogs modal, runs the
// menus from the keyboard, copies to the clipboard, and asks before the
// one-time reveal of a new key is closed.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var byId = function (id) { return id ? document.getElementById(id) : null; };
  var isMac = /Mac|iPhone|iPad/.test(navigator.platform || "");

  function announce(text) {
    var live = byId("live");
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function focusable(element) {
    return element && document.contains(element) && element.getClientRects().length > 0;
  }

  // ---------- dialogs ----------

  var openers = new WeakMap();

  function openDialog(dialog, opener) {
    if (opener) openers.set(dialog, opener);
    // A dialog the server rendered open is not modal yet; reopen it as one.
    if (dialog.open) {
      dialog.dataset.reopening = "yes";
      dialog.close();
    }
    dialog.showModal();
  }

  function returnFocus(dialog) {
    var target = openers.get(dialog);
    if (!focusable(target)) target = byId(dialog.dataset.returnFocus);
    if (focusable(target)) target.focus();
  }

  function onDialogClosed(event) {
    var dialog = event.target;
    if (dialog.dataset.reopening) {
      delete dialog.dataset.reopening;
      return;
    }
    if (dialog.dataset.confirmClose && !dialog.dataset.confirmed) {
      // Escape may close a modal dialog even when its cancel event is
      // refused: open it again and ask.
      dialog.showModal();
      askBeforeClosing(dialog);
      return;
    }
    if (dialog.dataset.closeUrl) {
      // The page came from GET .../new or .../delete: show the list's URL.
      history.replaceState(null, "", dialog.dataset.closeUrl);
      delete dialog.dataset.closeUrl;
    }
    returnFocus(dialog);
  }

  function askBeforeClosing(dialog) {
    var confirm = byId(dialog.dataset.confirmClose);
    if (confirm && !confirm.matches(":popover-open")) confirm.showPopover();
  }

  function setUpDialogs() {
    document.querySelectorAll("dialog[data-modal]").forEach(function (dialog) {
      dialog.addEventListener("close", onDialogClosed);
      if (dialog.dataset.confirmClose) {
        dialog.addEventListener("cancel", function (event) {
          event.preventDefault();
          askBeforeClosing(dialog);
        });
      }
      if (dialog.open) openDialog(dialog, byId(dialog.dataset.returnFocus));
    });
    document.querySelectorAll(".confirm[popover]").forEach(function (confirm) {
      confirm.addEventListener("toggle", function (event) {
        if (event.newState === "open") {
          var back = confirm.querySelector("[data-confirm-back]");
          if (back) back.focus();
        }
      });
    });
  }

  function openDeleteDialog(link) {
    var dialog = byId("delete-dialog");
    if (!dialog) return false;
    var menu = link.closest("[popover]");
    var invoker = menu ? document.querySelector('[popovertarget="' + menu.id + '"]') : null;
    if (menu) menu.hidePopover();
    dialog.querySelector("[data-key-name]").textContent = link.dataset.keyName;
    dialog.querySelector("[data-delete-form]").action = link.getAttribute("href");
    openDialog(dialog, invoker);
    return true;
  }

  // ---------- copy ----------

  function flash(button, text) {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = text;
    button.classList.add("is-done");
    window.clearTimeout(button.flashTimer);
    button.flashTimer = window.setTimeout(function () {
      button.textContent = button.dataset.label;
      button.classList.remove("is-done");
    }, 3000);
  }

  function toast(text) {
    var old = document.querySelector(".toast");
    if (old) old.remove();
    var note = document.createElement("p");
    note.className = "toast";
    note.textContent = text;
    document.body.appendChild(note);
    announce(text);
    window.setTimeout(function () { note.remove(); }, 3000);
  }

  // The Clipboard API needs a secure context (HTTPS or localhost); elsewhere
  // the text is selected and the person is told to press Ctrl+C.
  function copy(text, field, done) {
    var keys = isMac ? "\u2318C" : "Ctrl+C";
    var fallback = function () {
      if (field) {
        field.focus();
        field.select();
        done("Press " + keys, "Selected: press " + keys + " to copy.");
      } else {
        window.prompt("Press " + keys + " to copy:", text);
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        done("Copied", "Copied to the clipboard.");
      }, fallback);
    } else {
      fallback();
    }
  }

  // ---------- menus ----------

  function menuItems(menu) {
    return Array.prototype.filter.call(menu.querySelectorAll(".menu-item"), focusable);
  }

  function moveInMenu(menu, event) {
    var step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (!step) return;
    var items = menuItems(menu);
    if (!items.length) return;
    event.preventDefault();
    var at = items.indexOf(document.activeElement);
    items[(at + step + items.length) % items.length].focus();
  }

  // Row menus are popovers that CSS anchors to their button; where the
  // browser cannot, place each under its button, or above it when the
  // window has no room below.
  var anchored = window.CSS && CSS.supports("position-area: block-end");

  function placeRowMenu(menu) {
    if (anchored) return;
    var button = document.querySelector('[popovertarget="' + menu.id + '"]');
    if (!button) return;
    var rect = button.getBoundingClientRect();
    var top = rect.bottom + 4;
    if (top + menu.offsetHeight > window.innerHeight - 8) top = rect.top - menu.offsetHeight - 4;
    var left = Math.max(8, Math.min(rect.right - menu.offsetWidth, window.innerWidth - menu.offsetWidth - 8));
    menu.style.position = "fixed";
    menu.style.inset = Math.max(8, top) + "px auto auto " + left + "px";
    menu.style.margin = "0";
  }

  function setUpRowMenus() {
    document.querySelectorAll(".row-menu[popover]").forEach(function (menu) {
      menu.addEventListener("toggle", function (event) {
        var button = document.querySelector('[popovertarget="' + menu.id + '"]');
        if (button) button.classList.toggle("is-active", event.newState === "open");
        if (event.newState !== "open") return;
        placeRowMenu(menu);
        var first = menuItems(menu)[0];
        if (first) first.focus();
      });
      menu.addEventListener("keydown", function (event) { moveInMenu(menu, event); });
    });
    var closeAll = function () {
      document.querySelectorAll(".row-menu:popover-open").forEach(function (menu) { menu.hidePopover(); });
    };
    window.addEventListener("resize", closeAll);
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      wrap.addEventListener("scroll", closeAll, { passive: true });
    });
  }

  // The user menu opens on hover and focus with CSS alone; here it also
  // toggles on click, closes on Escape, and reports aria-expanded.
  function setUpUserMenu() {
    var wrap = document.querySelector("[data-user-menu]");
    if (!wrap) return;
    var button = wrap.querySelector(".user-button");
    var list = wrap.querySelector(".user-menu-list");
    var sync = function () {
      var shown = window.getComputedStyle(list).display !== "none";
      button.setAttribute("aria-expanded", shown ? "true" : "false");
    };
    var reset = function () {
      wrap.classList.remove("is-open", "is-dismissed");
      sync();
    };
    var dismiss = function () {
      wrap.classList.remove("is-open");
      wrap.classList.add("is-dismissed");
      sync();
    };
    var open = function () {
      wrap.classList.remove("is-dismissed");
      wrap.classList.add("is-open");
      sync();
    };
    // Pointing or focusing already shows the menu; a click pins it open,
    // and a second click closes it.
    button.addEventListener("click", function () {
      if (wrap.classList.contains("is-open")) dismiss(); else open();
    });
    wrap.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        dismiss();
        button.focus();
      } else if (event.key === "ArrowDown" && event.target === button) {
        event.preventDefault();
        open();
        menuItems(list)[0].focus();
      } else {
        moveInMenu(list, event);
      }
    });
    wrap.addEventListener("mouseenter", sync);
    wrap.addEventListener("focusin", sync);
    wrap.addEventListener("mouseleave", function () {
      if (!wrap.contains(document.activeElement)) reset(); else sync();
    });
    wrap.addEventListener("focusout", function (event) {
      if (!wrap.contains(event.relatedTarget)) window.setTimeout(reset, 0);
    });
    sync();
  }

  function setUpSwitcher() {
    var switcher = document.querySelector("[data-switcher]");
    if (!switcher) return;
    var summary = switcher.querySelector("summary");
    switcher.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && switcher.open) {
        switcher.open = false;
        summary.focus();
      } else {
        moveInMenu(switcher.querySelector(".menu"), event);
      }
    });
    document.addEventListener("click", function (event) {
      if (switcher.open && !switcher.contains(event.target)) switcher.open = false;
    });
  }

  // ---------- one listener for every click ----------

  function onClick(event) {
    var target = event.target.closest("a, button");
    if (!target) return;
    var data = target.dataset;
    if (data.openDialog) {
      var dialog = byId(data.openDialog);
      if (dialog) {
        event.preventDefault();
        openDialog(dialog, target);
      }
    } else if (data.closeDialog !== undefined) {
      var own = target.closest("dialog");
      if (own) {
        event.preventDefault();
        own.close();
      }
    } else if (data.deleteKey !== undefined) {
      if (openDeleteDialog(target)) event.preventDefault();
    } else if (data.copy) {
      var field = byId(data.copy);
      if (field) {
        copy(field.value, field, function (label, message) {
          flash(target, label);
          announce(message);
        });
      }
    } else if (data.copyText) {
      var menu = target.closest("[popover]");
      var invoker = menu ? document.querySelector('[popovertarget="' + menu.id + '"]') : null;
      if (menu) menu.hidePopover();
      if (invoker) invoker.focus();
      copy(data.copyText, null, function (label) {
        toast(label === "Copied" ? "Key ID copied." : label);
      });
    } else if (data.replace !== undefined) {
      // Closing the reveal: replace the POST result in the history, so Back
      // never comes to it again.
      event.preventDefault();
      var reveal = target.closest("dialog");
      if (reveal) reveal.dataset.confirmed = "yes";
      window.location.replace(target.href);
    }
  }

  // An invitation link carries its code in the fragment (#token=…), which
  // the server never sees: copy it into the form. The form's action keeps
  // the fragment, so the page that answers the post can fill it in again.
  function setUpInvitation() {
    var form = document.querySelector("[data-invitation-form]");
    var field = document.querySelector("[data-invitation-token]");
    var match = /[#&]token=([^&]+)/.exec(window.location.hash);
    if (!form || !field || !match) return;
    try {
      field.value = decodeURIComponent(match[1]);
    } catch (e) {
      // A mangled link: the visible field stays for the code to be pasted.
      return;
    }
    form.action = form.getAttribute("action").split("#")[0] + window.location.hash;
    var wrapper = field.closest(".field");
    if (wrapper) wrapper.hidden = true;
  }

  function start() {
    document.addEventListener("click", onClick);
    setUpInvitation();
    // Another link opened in the same tab changes only the fragment.
    window.addEventListener("hashchange", setUpInvitation);
    setUpDialogs();
    setUpRowMenus();
    setUpUserMenu();
    setUpSwitcher();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
