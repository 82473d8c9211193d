// Django admin's two-box selector (filter_horizontal, e.g. a user's groups and
// permissions) draws its search icon as a <span aria-label="...">: a name on an element
// with no role, which assistive technology ignores (axe-core: aria-prohibited-attr).
// The icon is an image: say so. SelectFilter2.js builds the boxes on "load", before this.
"use strict";
window.addEventListener("load", () => {
  document.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach((icon) => {
    icon.setAttribute("role", "img");
  });
});
