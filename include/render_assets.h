/* render_assets — the HTML page's stylesheet and script, kept as plain files (src/assets/page.css, page.js) and
 * built into the binary: the Makefile writes their bytes into $(BUILD)/render_assets.c. Not NUL-terminated: write
 * SIZE bytes. Used by render_html only. */
#ifndef RENDER_ASSETS_H
#define RENDER_ASSETS_H

#include <stddef.h>

extern const unsigned char render_asset_page_css[]; /* (render_asset_page_css_size) src/assets/page.css */
extern const size_t render_asset_page_css_size;
extern const unsigned char render_asset_page_js[];  /* (render_asset_page_js_size) src/assets/page.js */
extern const size_t render_asset_page_js_size;

#endif
