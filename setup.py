from setuptools import find_packages, setup

FIRST_PARTY_PLUGINS = ["proctoring", "multimodal", "webhooks", "interviews", "groq"]

setup(
    name="interviewminds",
    version="0.1.0",
    description="Plugin-based backend for AI-assisted technical interviews",
    python_requires=">=3.11",
    packages=find_packages(include=["core", "core.*", "plugins", "plugins.*"]) + ["interviewminds_config"],
    # config/ ships as package data under an unambiguous import name (core.config_files).
    package_dir={"interviewminds_config": "config"},
    package_data={"interviewminds_config": ["*.toml"],
                  # GraphiQL (vendored npm builds) and the /docs init script, served by the app.
                  "core": ["static/graphiql/*", "static/docs/*"]},
    include_package_data=True,
    install_requires=[
        "pyramid>=2.0,<3",
        "waitress>=3.0,<4",
        "pluggy>=1.5,<2",
        "cornice>=6.1,<7",
        "marshmallow>=3.20,<4",  # cornice 6 validators use Schema.context, removed in 4
        "mongoengine>=0.29,<0.30",
        "pymongo>=4.6,<5",
        "redis>=5.0,<8",
        "rq>=2.0,<4",
        "strawberry-graphql>=0.260,<1",
        "groq>=0.11,<2",
        "opencv-python-headless>=4.14,<5",  # cv2.dnn.readNetFromTFLite runs the proctoring face models (checked on 4.14)
        "numpy>=1.26,<3",
        "prometheus-client>=0.20,<1",
        "limits[redis]>=3.13,<6",
        "pybreaker>=1.2,<2",
        "PyJWT[crypto]>=2.8,<3",
        "standardwebhooks>=1.0,<2",
        "vaderSentiment>=3.3,<4",
        "PasteDeploy>=3.0,<4",
        "plaster-pastedeploy>=1.0,<2",
        "apispec[marshmallow]>=6.6,<7",  # /openapi.json (OpenAPI 3.1 from marshmallow schemas)
        "pyramid_services>=2.2,<3",
        "jsonschema>=4.18,<5",
        "swagger-ui-py~=25.7",  # /docs: the swagger-ui 5 dist files (OpenAPI 3.1); no CDN
        "confusable-homoglyphs>=3.3,<4",  # core.llm_text: Unicode UTS #39 confusables for the prompt guard
    ],
    extras_require={
        "test": ["pytest>=8,<10", "webtest>=3.0,<4", "pytest-timeout>=2.3,<3",
                 "openapi-spec-validator>=0.7,<1", "schemathesis>=4,<5"],
        "bench": [],
    },
    entry_points={
        "paste.app_factory": ["main = core:main"],
        "console_scripts": ["interviewminds = core.cli:main"],
        "interviewminds.plugins": [f"{name} = plugins.{name}" for name in FIRST_PARTY_PLUGINS],
    },
)
