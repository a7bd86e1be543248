// The people search on the new-DM page: type a name, pick a person, and their username
// joins the "People" field. Results are rendered with textContent only, each with its
// presence dot.

import { makeDot } from "./presence.js";

const root = document.querySelector("[data-people]");
const search = root?.querySelector("[data-people-search]");
const results = root?.querySelector("[data-people-results]");
const field = document.querySelector("#id_usernames");

function add(username) {
  const names = new Set(field.value.split(/[\s,]+/).filter(Boolean));
  names.add(username);
  field.value = [...names].join(", ");
  field.focus();
}

function show(users) {
  results.replaceChildren(
    ...users.map((person) => {
      const item = document.createElement("li");
      item.className = "room-entry";
      const name = document.createElement("span");
      name.className = "room-entry-name";
      name.append(makeDot(person.id, person.presence), `${person.name} (@${person.username})`);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button-small";
      button.textContent = "Add";
      button.setAttribute("aria-label", `Add ${person.name}`);
      button.addEventListener("click", () => add(person.username));
      item.append(name, button);
      return item;
    }),
  );
  if (!users.length) {
    const empty = document.createElement("li");
    empty.className = "room-entry";
    empty.textContent = "No one matches.";
    results.append(empty);
  }
}

let timer = 0;
let latest = 0;
async function lookup() {
  const ticket = ++latest;
  const url = `${root.dataset.url}?q=${encodeURIComponent(search.value)}`;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (response.ok && ticket === latest) show((await response.json()).users);
}

if (root && search && field) {
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lookup, 200);
  });
}
