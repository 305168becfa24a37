// Starts GraphiQL on the page that core/graphiql.py serves at GET /graphql.
// The page's CSP allows scripts from this origin only, so this file (not an inline script)
// does the work. React, ReactDOM and GraphiQL are the vendored UMD builds beside it.
//
// Optional settings in the URL fragment (never sent to the server, so never logged):
//   /graphql#token=<bearer token>&query=<a query to start with>&variables=<JSON>
// The token goes into the headers editor as "Authorization: Bearer <token>" and is then
// removed from the address bar; headers are not persisted in local storage.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  var props = {
    fetcher: GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint") }),
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  };
  var token = fragment.get("token");
  if (token) {
    props.headers = JSON.stringify({ Authorization: "Bearer " + token }, null, 2);
    props.defaultEditorToolsVisibility = "headers";
  }
  if (fragment.get("query")) {
    props.query = fragment.get("query");
  }
  if (fragment.get("variables")) {
    props.variables = fragment.get("variables");
  }
  if (window.location.hash) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  root.textContent = "";
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
