// Starts Swagger UI on the page that core/apidocs.py serves at GET /docs. The page's CSP allows
// scripts from this origin only, so this file (not an inline script) does the work; the
// Swagger UI bundle comes from the swagger-ui-py package, served from this origin too.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // The default validator badge would send the spec to a public validator: never.
    validatorUrl: null,
    persistAuthorization: false,
  });
})();
