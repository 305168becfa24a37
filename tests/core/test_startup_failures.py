"""Each startup failure stops the app with a message naming the cause."""
import pytest

from core.app import build_config
from core.plugins import PluginError
from core.settings import SettingsError, plugin_settings

LOCAL = "tests.support.local_plugins."


def settings_with(test_settings, plugins, **extra):
    settings = dict(test_settings)
    settings["interviewminds.plugins"] = " ".join(plugins)
    settings.update(extra)
    return settings


def test_unknown_plugin_is_named(test_settings):
    with pytest.raises(PluginError, match=r"unknown plugin 'nosuchplugin'.*installed: .*sample"):
        build_config(settings_with(test_settings, ["nosuchplugin"]), environ={})


def test_plugin_whose_import_fails_is_named(test_settings):
    with pytest.raises(PluginError, match=r"plugin '.*broken_import' failed to import.*ModuleNotFoundError"):
        build_config(settings_with(test_settings, [LOCAL + "broken_import"]), environ={})


def test_plugin_enabled_twice(test_settings):
    with pytest.raises(PluginError, match=r"plugin 'sample' is enabled twice"):
        build_config(settings_with(test_settings, ["sample", "sample"]), environ={})


def test_duplicate_route_names_both_plugins(test_settings):
    with pytest.raises(PluginError, match=r"route GET /api/sample/echo is defined by both 'sample' and 'route_clash'"):
        build_config(settings_with(test_settings, ["sample", LOCAL + "route_clash"]), environ={})


def test_graphql_field_clash_names_both_plugins(test_settings):
    with pytest.raises(PluginError,
                       match=r"GraphQL field Query.sampleGreeting is contributed by both 'sample' and 'graphql_clash'"):
        build_config(settings_with(test_settings, ["sample", LOCAL + "graphql_clash"]), environ={})


def test_unknown_setting_under_plugin_prefix(test_settings):
    settings = settings_with(test_settings, [LOCAL + "typed_settings"],
                             **{"interviewminds.typed_settings.windw": "3"})
    with pytest.raises(SettingsError, match=r"^interviewminds.typed_settings.windw: unknown setting$"):
        build_config(settings, environ={})


def test_unknown_core_setting(test_settings):
    with pytest.raises(SettingsError, match=r"interviewminds.mongo.urii: unknown setting"):
        build_config(settings_with(test_settings, [], **{"interviewminds.mongo.urii": "x"}), environ={})


@pytest.mark.parametrize("key,value,expected", [
    ("interviewminds.typed_settings.window", "ten", "expected an integer"),
    ("interviewminds.typed_settings.window", "0", "expected at least 1"),
    ("interviewminds.typed_settings.ratio", "nan", "expected a number"),
    ("interviewminds.debug", "maybe", "expected a boolean"),
    ("interviewminds.env", "staging", "expected one of development, test, production"),
])
def test_setting_with_bad_type(test_settings, key, value, expected):
    settings = settings_with(test_settings, [LOCAL + "typed_settings"], **{key: value})
    with pytest.raises(SettingsError) as info:
        build_config(settings, environ={})
    message = str(info.value)
    assert message.startswith(f"{key}: invalid value {value!r}") and expected in message
    assert "\n" not in message


def test_bad_value_from_environment_names_key(test_settings):
    environ = {"INTERVIEWMINDS_TYPED_SETTINGS_WINDOW": "-5"}
    with pytest.raises(SettingsError, match=r"interviewminds.typed_settings.window: invalid value '-5'"):
        build_config(settings_with(test_settings, [LOCAL + "typed_settings"]), environ=environ)


def test_environment_overrides_ini(test_settings):
    config = build_config(settings_with(test_settings, [LOCAL + "typed_settings"],
                                        **{"interviewminds.typed_settings.window": "3"}),
                          environ={"INTERVIEWMINDS_TYPED_SETTINGS_WINDOW": "7"})
    assert config.registry.settings["interviewminds.typed_settings.window"] == 7
    assert plugin_settings(config.registry.settings, "typed_settings") == {"window": 7, "ratio": 0.5}


def test_production_refuses_dev_auth_and_secrets_in_ini(test_settings):
    settings = settings_with(test_settings, [], **{"interviewminds.env": "production"})
    with pytest.raises(SettingsError, match="dev tokens are refused in production"):
        build_config(settings, environ={})
    settings["interviewminds.auth.dev"] = "false"
    with pytest.raises(SettingsError, match=r"interviewminds.mongo.uri: secrets must come from the environment "
                                            r"\(INTERVIEWMINDS_MONGO_URI\)"):
        build_config(settings, environ={})


def test_paste_factory_exits_with_one_line(test_settings):
    import core

    with pytest.raises(SystemExit) as info:
        core.main({}, **settings_with(test_settings, ["nosuchplugin"]))
    assert str(info.value).startswith("interviewminds: cannot start: unknown plugin 'nosuchplugin'")
